package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.skein.worker.step.Json;
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
    return invalid(index, JsonNodeFactory.instance.objectNode(), error);
  }

  /** A record that was read but may not run (a stage's filter could not be judged for it): its row keeps its id and input. */
  public static RecordInput invalid(long index, JsonNode raw, String error) {
    return new RecordInput(index, raw, Map.of(), error);
  }

  /**
   * This record with more values for its templates (a job's {@code files}, a stage's {@code setup}
   * row), which are not fields of the record: its rows do not repeat them.
   */
  public RecordInput withValues(Map<String, ?> extra) {
    if (extra.isEmpty() || error != null) {
      return this;
    }
    Map<String, Object> all = new java.util.LinkedHashMap<>(values);
    all.putAll(extra);
    return new RecordInput(index, raw, all, null);
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
    return Json.plainObject(node);
  }
}
