package io.skein.worker.dedupe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** MinHash estimates the Jaccard similarity of word shingles, and its bands make near-duplicates candidates. */
class MinHashTest {

  static final String BASE = "How do I reset my password when the reset email never arrives in my inbox or spam folder at all,"
      + " and I have tried twice already since this morning with two different browsers on my old laptop";
  /** The last word changed: one of 36 shingles differs (Jaccard 35/37). */
  static final String NEAR = BASE.replace("old laptop", "old computer");

  @Test
  void caseAccentsAndPunctuationAreSetAside() {
    assertEquals(MinHash.exact("Café, au LAIT!"), MinHash.exact("cafe au lait"));
    assertArrayEquals(MinHash.signature("Hello, World: again and again"), MinHash.signature("hello world again AND again"));
  }

  @Test
  void theEstimateFollowsTheTrueJaccardOfTheShingles() {
    for (String other : List.of(NEAR, BASE.replace("folder", "box"), BASE.substring(0, BASE.indexOf(','))))  {
      double truth = jaccard(MinHash.shingles(BASE), MinHash.shingles(other));
      double estimate = MinHash.similarity(MinHash.signature(BASE), MinHash.signature(other));
      assertTrue(Math.abs(truth - estimate) < 0.12, "estimate " + estimate + " of " + truth + " for " + other);
    }
    assertTrue(MinHash.similarity(MinHash.signature(BASE), MinHash.signature(NEAR)) > 0.85, "the last word changed is a near-duplicate");
    double other = MinHash.similarity(MinHash.signature(BASE), MinHash.signature("What is the capital of France and how many people live there"));
    assertTrue(other < 0.1, "unrelated questions: " + other);
  }

  @Test
  void bandsAreChosenSoTextsAtTheThresholdShareOne() {
    for (double t : List.of(0.5, 0.7, 0.8, 0.9)) {
      int r = MinHash.rowsPerBand(t);
      double midpoint = Math.pow(1.0 / (MinHash.HASHES / r), 1.0 / r);
      assertTrue(midpoint <= t && t - midpoint < 0.1, "threshold " + t + ": " + r + " rows a band, midpoint " + midpoint);
    }
    int r = MinHash.rowsPerBand(0.8);
    String near = NEAR;
    Set<Long> a = new HashSet<>(MinHash.bands(MinHash.signature(BASE), r));
    a.retainAll(MinHash.bands(MinHash.signature(near), r));
    assertTrue(!a.isEmpty(), "a near-duplicate shares a band");
    Set<Long> b = new HashSet<>(MinHash.bands(MinHash.signature(BASE), r));
    b.retainAll(MinHash.bands(MinHash.signature("Where can I buy tickets for the summer jazz festival in the old harbour"), r));
    assertTrue(b.isEmpty(), "an unrelated text shares none");
  }

  private static double jaccard(Set<String> a, Set<String> b) {
    Set<String> both = new HashSet<>(a);
    both.retainAll(b);
    Set<String> either = new HashSet<>(a);
    either.addAll(b);
    return (double) both.size() / either.size();
  }
}
