package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One input record: its index, the JSON it was given as, and the plain values templates see. A
 * line that could not be read keeps its {@code error} (with the line number) and becomes an error
 * row instead of running.
 */
public record RecordInput(long index, JsonNode raw, Map<String, Object> values, String error) {

  public static RecordInput of(long index, JsonNode raw) {
    return new RecordInput(index, raw, plainMap(raw), null);
  }

  public static RecordInput invalid(long index, String error) {
    return new RecordInput(index, JsonNodeFactory.instance.objectNode(), Map.of(), error);
  }

  /** The row id: the record's own {@code id} field when it has a scalar one, else its index. */
  public JsonNode id() {
    JsonNode id = raw == null ? null : raw.get("id");
    if (id != null && id.isValueNode() && !id.isNull()) {
      return id;
    }
    return JsonNodeFactory.instance.numberNode(index);
  }

  private static Map<String, Object> plainMap(JsonNode node) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (node != null && node.isObject()) {
      node.fields().forEachRemaining(e -> out.put(e.getKey(), plain(e.getValue())));
    }
    return out;
  }

  /** JSON to the plain values a sandboxed template may see: strings, numbers, booleans, lists, maps. */
  static Object plain(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isIntegralNumber()) {
      return node.canConvertToLong() ? (Object) node.asLong() : node.bigIntegerValue();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>(node.size());
      node.forEach(n -> list.add(plain(n)));
      return list;
    }
    if (node.isObject()) {
      return plainMap(node);
    }
    return node.asText();
  }
}
