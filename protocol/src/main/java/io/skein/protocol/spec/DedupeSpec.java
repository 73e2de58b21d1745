package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * {@code dedupe: {field, method, threshold}}: a record whose {@code field} is too close to one
 * already accepted in the job, cluster-wide, ends as an error row of type {@code duplicate}.
 * {@code exact}: the same text once spaces and case are set aside; {@code minhash}: an estimated
 * Jaccard similarity of the texts' word shingles of at least {@code threshold}.
 */
public record DedupeSpec(String field, String method, double threshold) {

  public static final String EXACT = "exact";
  public static final String MINHASH = "minhash";
  private static final Set<String> KEYS = Set.of("field", "method", "threshold");

  /** The spec's {@code dedupe}, or null; each problem goes to {@code error} with its path. */
  static DedupeSpec read(JsonNode node, BiConsumer<String, String> error) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      error.accept("dedupe", "must be {field: NAME, method: minhash|exact, threshold: 0.8}");
      return null;
    }
    node.fieldNames().forEachRemaining(k -> {
      if (!KEYS.contains(k)) {
        error.accept("dedupe." + k, "unknown key" + SpecParser.suggest(k, KEYS) + " (known: " + List.copyOf(new java.util.TreeSet<>(KEYS)) + ")");
      }
    });
    if (!node.path("field").isTextual()) {
      error.accept("dedupe.field", "missing: the record field (or step) whose text must not repeat");
      return null;
    }
    String method = node.path("method").asText(MINHASH);
    if (!method.equals(EXACT) && !method.equals(MINHASH)) {
      error.accept("dedupe.method", "`" + method + "` is not one of [minhash, exact]" + SpecParser.suggest(method, List.of(MINHASH, EXACT)));
    }
    double threshold = 0.8;
    if (node.has("threshold")) {
      JsonNode t = node.get("threshold");
      if (!t.isNumber() || t.asDouble() <= 0 || t.asDouble() > 1) {
        error.accept("dedupe.threshold", "must be a number above 0 and at most 1 (the Jaccard similarity that makes a duplicate), got " + t);
      } else if (method.equals(EXACT)) {
        error.accept("dedupe.threshold", "an exact dedupe has no threshold; use method: minhash for near-duplicates");
      }
      threshold = t.asDouble();
    }
    return new DedupeSpec(node.get("field").asText(), method, method.equals(EXACT) ? 1.0 : threshold);
  }
}
