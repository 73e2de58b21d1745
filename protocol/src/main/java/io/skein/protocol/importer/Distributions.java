package io.skein.protocol.importer;

import com.fasterxml.jackson.databind.JsonNode;

/** Data Designer's inference-parameter distributions ({@code distribution_type}, {@code params}). */
final class Distributions {

  private Distributions() {}

  /** The distribution's mean: {@code uniform} (low + high) / 2; {@code manual} the weighted mean of its values. */
  static double mean(JsonNode distribution) {
    JsonNode p = distribution.path("params");
    String type = distribution.path("distribution_type").asText();
    double mean = switch (type) {
      case "uniform" -> (p.path("low").asDouble() + p.path("high").asDouble()) / 2;
      case "manual" -> weightedMean(p.path("values"), p.path("weights"));
      default -> throw new IllegalArgumentException("unknown distribution_type `" + type + "` (uniform and manual are known)");
    };
    return Math.round(mean * 1e6) / 1e6;
  }

  private static double weightedMean(JsonNode values, JsonNode weights) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("a manual distribution without values");
    }
    double sum = 0;
    double total = 0;
    for (int i = 0; i < values.size(); i++) {
      double w = weights.isArray() && weights.size() == values.size() ? weights.get(i).asDouble() : 1.0;
      sum += w * values.get(i).asDouble();
      total += w;
    }
    return sum / total;
  }
}
