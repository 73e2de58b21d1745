package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;

/**
 * A sampling parameter drawn per call ({@code temperature: {distribution: uniform, low, high}} or
 * {@code {distribution: manual, values, weights}}), as Data Designer's inference-parameter
 * distributions: each call gets its own value, drawn from the call's seed, so a retry sends the
 * same request and the cache and fingerprints still hold.
 */
public record ParamDistribution(String distribution, double low, double high, List<Double> values, List<Double> weights) {

  /** The value of the call whose request seed is {@code seed}, to four decimal places. */
  public double sample(long seed) {
    SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    double v;
    if (distribution.equals("uniform")) {
      v = low + (high - low) * random.nextDouble();
    } else {
      double total = weights.stream().mapToDouble(Double::doubleValue).sum();
      double u = random.nextDouble() * total;
      int i = 0;
      while (i < values.size() - 1 && (u -= weights.get(i)) >= 0) {
        i++;
      }
      v = values.get(i);
    }
    return Math.round(v * 1e4) / 1e4;
  }

  /** The mapping at {@code path}, each value within [min, max]; null (after {@code error}) when it is not one. */
  static ParamDistribution read(JsonNode m, String path, double min, double max, BiConsumer<String, String> error) {
    String kind = m.path("distribution").asText();
    for (java.util.Iterator<String> keys = m.fieldNames(); keys.hasNext(); ) {
      String k = keys.next();
      if (!List.of("distribution", "low", "high", "values", "weights").contains(k)) {
        error.accept(path + "." + k, "unknown key (a distribution has distribution, and low and high, or values and weights)");
      }
    }
    if (kind.equals("uniform")) {
      double low = m.path("low").asDouble(Double.NaN);
      double high = m.path("high").asDouble(Double.NaN);
      if (!(low >= min && high <= max && low < high)) {
        error.accept(path, "a uniform distribution needs low < high, both between " + min + " and " + max);
        return null;
      }
      return new ParamDistribution(kind, low, high, List.of(), List.of());
    }
    if (kind.equals("manual")) {
      List<Double> values = numbers(m.path("values"));
      List<Double> weights = m.has("weights") ? numbers(m.path("weights")) : values.stream().map(v -> 1.0).toList();
      if (values.isEmpty() || values.stream().anyMatch(v -> v < min || v > max)) {
        error.accept(path + ".values", "a manual distribution needs values, each between " + min + " and " + max);
        return null;
      }
      if (weights.size() != values.size() || weights.stream().anyMatch(w -> w < 0) || weights.stream().mapToDouble(w -> w).sum() <= 0) {
        error.accept(path + ".weights", "one weight (at least 0, not all 0) per value: " + values.size() + " values");
        return null;
      }
      return new ParamDistribution(kind, 0, 0, values, weights);
    }
    error.accept(path + ".distribution", "`" + kind + "` is not one of [uniform, manual]");
    return null;
  }

  private static List<Double> numbers(JsonNode node) {
    List<Double> out = new ArrayList<>();
    node.forEach(n -> out.add(n.isNumber() ? n.asDouble() : Double.NaN));
    return out;
  }
}
