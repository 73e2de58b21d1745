package io.skein.worker.dedupe;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Near-duplicate text, by MinHash with locality-sensitive hashing: a text's word shingles (three
 * words, after case, accents and punctuation are set aside) get {@value #HASHES} min-hashes; the
 * share of equal min-hashes of two texts estimates their shingles' Jaccard similarity; the
 * signature is cut into bands of rows chosen for the threshold, and two texts sharing a band's
 * hash are candidates. Written here because no maintained Java library does MinHash LSH for
 * strings (Apache DataSketches estimates Jaccard of sketches but has no banding), and it is small:
 * hashing is SplitMix64 over a SHA-256 of the shingle, so signatures are the same on every node and
 * every JVM.
 */
public final class MinHash {

  /** Min-hashes per signature. */
  public static final int HASHES = 128;
  private static final int SHINGLE = 3;

  private MinHash() {}

  /** The normalized text: lower case, accents and punctuation removed, spaces collapsed. */
  public static String normalize(String text) {
    String plain = Normalizer.normalize(text, Normalizer.Form.NFKD).replaceAll("\\p{M}", "");
    return plain.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ").trim();
  }

  /** The text's word shingles (the whole text when it has fewer words). */
  static Set<String> shingles(String text) {
    String[] words = normalize(text).split(" ");
    Set<String> out = new LinkedHashSet<>();
    if (words.length <= SHINGLE) {
      out.add(String.join(" ", words));
      return out;
    }
    for (int i = 0; i + SHINGLE <= words.length; i++) {
      out.add(String.join(" ", java.util.Arrays.copyOfRange(words, i, i + SHINGLE)));
    }
    return out;
  }

  /** The text's signature: for each of the hash functions, the least hash of its shingles. */
  public static long[] signature(String text) {
    long[] sig = new long[HASHES];
    java.util.Arrays.fill(sig, Long.MAX_VALUE);
    for (String shingle : shingles(text)) {
      long base = stableHash(shingle);
      for (int i = 0; i < HASHES; i++) {
        long h = mix(base + (i + 1) * 0x9E3779B97F4A7C15L) & Long.MAX_VALUE;
        if (h < sig[i]) {
          sig[i] = h;
        }
      }
    }
    return sig;
  }

  /** The estimated Jaccard similarity of two texts: the share of their signatures' equal min-hashes. */
  public static double similarity(long[] a, long[] b) {
    int same = 0;
    for (int i = 0; i < HASHES; i++) {
      same += a[i] == b[i] ? 1 : 0;
    }
    return (double) same / HASHES;
  }

  /**
   * The rows per band for a threshold: of the ways to cut the signature into {@code b} bands of
   * {@code r} rows ({@code b = HASHES / r}, the rest unused), the one whose S-curve midpoint
   * {@code (1/b)^(1/r)} is the closest at or below the threshold, so texts at the threshold are
   * candidates with high probability.
   */
  public static int rowsPerBand(double threshold) {
    int best = 1;
    double bestGap = Double.MAX_VALUE;
    for (int r = 1; r <= HASHES; r++) {
      double midpoint = Math.pow(1.0 / (HASHES / r), 1.0 / r);
      double gap = threshold - midpoint;
      if (gap >= 0 && gap < bestGap) {
        best = r;
        bestGap = gap;
      }
    }
    return best;
  }

  /** One hash per band of {@code rows} min-hashes: texts sharing any are candidates. */
  public static List<Long> bands(long[] sig, int rows) {
    List<Long> out = new ArrayList<>(HASHES / rows);
    for (int b = 0; b < HASHES / rows; b++) {
      long h = b * 0x632BE59BD9B4E019L;
      for (int i = b * rows; i < (b + 1) * rows; i++) {
        h = mix(h ^ sig[i]);
      }
      out.add(h);
    }
    return out;
  }

  /** A hash of the normalized text, for exact duplicates. */
  public static long exact(String text) {
    return stableHash(normalize(text));
  }

  private static long stableHash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      long h = 0;
      for (int i = 0; i < 8; i++) {
        h = (h << 8) | (d[i] & 0xFF);
      }
      return h;
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** SplitMix64's finalizer. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
