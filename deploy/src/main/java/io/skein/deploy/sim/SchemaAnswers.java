package io.skein.deploy.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SplittableRandom;

/**
 * The simulator's answers to structured requests: a JSON value that conforms to a JSON Schema
 * (objects with every property, arrays within their bounds, enums, consts, numbers within bounds,
 * {@code $ref} to {@code $defs}, the first branch of {@code anyOf}/{@code oneOf}), drawn from a
 * seeded random source so the same request gets the same answer; and the ways a model breaks one.
 */
final class SchemaAnswers {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] WORDS = "alpha bravo clear steady prime quick bright solid calm modern".split(" ");

  private SchemaAnswers() {}

  static JsonNode conforming(JsonNode schema, SplittableRandom random) {
    return value(schema, schema, random, 0);
  }

  /** A broken answer: half the time text that does not parse, else JSON with a required property missing or a wrong type. */
  static String broken(JsonNode schema, SplittableRandom random) {
    JsonNode good = conforming(schema, random);
    String text = good.toString();
    if (random.nextBoolean() || !good.isObject() || good.isEmpty()) {
      return "Here is the JSON: " + text.substring(0, Math.max(1, text.length() / 2));
    }
    ObjectNode bad = (ObjectNode) good.deepCopy();
    String first = bad.fieldNames().next();
    if (schema.path("required").isArray() && !schema.path("required").isEmpty()) {
      bad.remove(schema.get("required").get(0).asText());
    } else {
      bad.set(first, JSON.getNodeFactory().arrayNode().add(Integer.MAX_VALUE));
    }
    return bad.toString();
  }

  private static JsonNode value(JsonNode s, JsonNode root, SplittableRandom random, int depth) {
    if (s.has("$ref")) {
      String ref = s.get("$ref").asText();
      JsonNode target = ref.startsWith("#") ? root.at(ref.substring(1)) : null;
      return target == null || target.isMissingNode() || depth > 8 ? JSON.getNodeFactory().nullNode() : value(target, root, random, depth + 1);
    }
    if (s.has("const")) {
      return s.get("const");
    }
    if (s.has("enum")) {
      return s.get("enum").get(random.nextInt(s.get("enum").size()));
    }
    for (String branch : new String[] {"anyOf", "oneOf", "allOf"}) {
      if (s.path(branch).isArray() && !s.get(branch).isEmpty()) {
        JsonNode pick = s.get(branch).get(0);
        for (JsonNode b : s.get(branch)) {
          if (!"null".equals(b.path("type").asText())) {
            pick = b;
            break;
          }
        }
        return value(pick, root, random, depth + 1);
      }
    }
    String type = s.path("type").isArray() ? firstNonNull(s.get("type")) : s.path("type").asText(s.has("properties") ? "object" : "string");
    return switch (type) {
      case "object" -> {
        ObjectNode o = JSON.createObjectNode();
        s.path("properties").fields().forEachRemaining(e -> o.set(e.getKey(), value(e.getValue(), root, random, depth + 1)));
        yield o;
      }
      case "array" -> {
        ArrayNode a = JSON.createArrayNode();
        int min = s.path("minItems").asInt(1);
        int max = Math.max(min, s.path("maxItems").asInt(min + 2));
        int n = min + random.nextInt(max - min + 1);
        for (int i = 0; i < n; i++) {
          a.add(value(s.path("items").isObject() ? s.get("items") : JSON.createObjectNode(), root, random, depth + 1));
        }
        yield a;
      }
      case "integer" -> {
        long lo = s.has("minimum") ? s.get("minimum").asLong() : s.has("exclusiveMinimum") ? s.get("exclusiveMinimum").asLong() + 1 : 0;
        long hi = s.has("maximum") ? s.get("maximum").asLong() : s.has("exclusiveMaximum") ? s.get("exclusiveMaximum").asLong() - 1 : lo + 100;
        yield JSON.getNodeFactory().numberNode(lo + (hi > lo ? random.nextLong(hi - lo + 1) : 0));
      }
      case "number" -> {
        double lo = s.has("minimum") ? s.get("minimum").asDouble() : s.path("exclusiveMinimum").asDouble(0);
        double hi = s.has("maximum") ? s.get("maximum").asDouble() : s.has("exclusiveMaximum") ? s.get("exclusiveMaximum").asDouble() : lo + 100;
        double x = lo + random.nextDouble() * (hi - lo);
        yield JSON.getNodeFactory().numberNode(Math.round(x * 100) / 100.0 < hi || hi == lo ? Math.round(x * 100) / 100.0 : x);
      }
      case "boolean" -> JSON.getNodeFactory().booleanNode(random.nextBoolean());
      case "null" -> JSON.getNodeFactory().nullNode();
      default -> JSON.getNodeFactory().textNode(text(s, random));
    };
  }

  private static String text(JsonNode s, SplittableRandom random) {
    String format = s.path("format").asText("");
    if (format.equals("date")) {
      return "2025-0" + (1 + random.nextInt(9)) + "-1" + random.nextInt(10);
    }
    if (format.equals("email")) {
      return WORDS[random.nextInt(WORDS.length)] + "@example.com";
    }
    int min = s.path("minLength").asInt(0);
    int max = s.path("maxLength").asInt(Integer.MAX_VALUE);
    StringBuilder sb = new StringBuilder();
    int words = 2 + random.nextInt(5);
    for (int i = 0; i < words || sb.length() < min; i++) {
      sb.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
    }
    return sb.length() > max ? sb.substring(0, max) : sb.toString();
  }

  private static String firstNonNull(JsonNode types) {
    for (JsonNode t : types) {
      if (!t.asText().equals("null")) {
        return t.asText();
      }
    }
    return "null";
  }
}
