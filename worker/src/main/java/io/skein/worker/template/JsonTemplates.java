package io.skein.worker.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * JSON whose strings are templates (a processor's row): each string is rendered; a string that is
 * exactly one {@code {{ name }}} or {@code {{ name.field }}} takes that value with its JSON type, so
 * a list stays a list and a score stays a number.
 */
public final class JsonTemplates {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern ONE_VALUE = Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)\\s*}}");

  private JsonTemplates() {}

  public static JsonNode render(JsonNode template, Map<String, ?> context) {
    if (template.isObject()) {
      ObjectNode out = JSON.createObjectNode();
      template.fields().forEachRemaining(e -> out.set(e.getKey(), render(e.getValue(), context)));
      return out;
    }
    if (template.isArray()) {
      ArrayNode out = JSON.createArrayNode();
      template.forEach(t -> out.add(render(t, context)));
      return out;
    }
    if (!template.isTextual()) {
      return template;
    }
    Matcher one = ONE_VALUE.matcher(template.asText().strip());
    if (one.matches()) {
      Object value = context.get(one.group(1).split("\\.")[0]);
      String[] path = one.group(1).split("\\.");
      for (int i = 1; i < path.length && value != null; i++) {
        value = value instanceof Map<?, ?> map ? map.get(path[i]) : null;
      }
      if (value != null || context.containsKey(path[0])) {
        return JSON.valueToTree(value);
      }
    }
    return JSON.getNodeFactory().textNode(Templates.get().render(template.asText(), context));
  }

  /** Every template string in {@code template}, with its path under {@code path}. */
  public static void strings(JsonNode template, String path, BiConsumer<String, String> each) {
    if (template.isObject()) {
      template.fields().forEachRemaining(e -> strings(e.getValue(), path + "." + e.getKey(), each));
    } else if (template.isArray()) {
      for (int i = 0; i < template.size(); i++) {
        strings(template.get(i), path + "[" + i + "]", each);
      }
    } else if (template.isTextual()) {
      each.accept(path, template.asText());
    }
  }
}
