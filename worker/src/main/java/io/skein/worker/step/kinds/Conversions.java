package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.worker.step.Json;

/** {@code convert_to} and an expression's {@code type}: a value as int, float, str, bool, or a datetime by a strftime pattern. */
final class Conversions {

  private Conversions() {}

  static JsonNode convert(JsonNode value, String to) {
    if (to == null || value == null || value.isNull()) {
      return value;
    }
    String text = Json.text(value).strip();
    return switch (to) {
      case "int" -> Json.NODES.numberNode(value.isNumber() ? Math.round(value.asDouble()) : Math.round(Double.parseDouble(text)));
      case "float" -> Json.NODES.numberNode(value.isNumber() ? value.asDouble() : Double.parseDouble(text));
      case "str" -> Json.NODES.textNode(text);
      case "bool" -> Json.NODES.booleanNode(truthy(value, text));
      default -> Json.NODES.textNode(Strftime.format(Samplers.parse(text), to));
    };
  }

  private static boolean truthy(JsonNode value, String text) {
    if (value.isBoolean()) {
      return value.asBoolean();
    }
    if (value.isNumber()) {
      return value.asDouble() != 0;
    }
    return switch (text.toLowerCase(java.util.Locale.ROOT)) {
      case "true", "1", "yes" -> true;
      case "false", "0", "no", "", "none", "null" -> false;
      default -> throw new IllegalArgumentException("`" + text + "` is not a boolean");
    };
  }
}
