package io.skein.protocol.importer;

import com.fasterxml.jackson.databind.JsonNode;

/** Data Designer's inference-parameter distributions ({@code distribution_type}, {@code params}). */
final class Distributions {

  private Distributions() {}

  /** The distribution in Skein's shape: {@code {distribution: uniform, low, high}} or {@code {distribution: manual, values, weights}}. */
  static com.fasterxml.jackson.databind.node.ObjectNode skein(JsonNode distribution) {
    JsonNode p = distribution.path("params");
    String type = distribution.path("distribution_type").asText("manual");
    var out = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("distribution", type);
    if (type.equals("uniform")) {
      out.set("low", p.path("low"));
      out.set("high", p.path("high"));
    } else {
      out.set("values", p.path("values"));
      if (p.path("weights").isArray()) {
        out.set("weights", p.path("weights"));
      }
    }
    return out;
  }
}
