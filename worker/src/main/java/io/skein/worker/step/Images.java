package io.skein.worker.step;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.template.TemplateException;
import io.skein.worker.template.Templates;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code images:} on a model step: images sent with the step's user message, as OpenAI's
 * {@code image_url} content parts. Each entry is a template whose result is a URL (or a
 * {@code data:} URI), or a record field ({@code {field, type, format}}) holding a URL, base64
 * data, a {@code data:} URI, or a list of those — Data Designer's {@code ImageContext}, with its
 * rules: {@code type: url} or {@code base64}, or neither and each value is told apart (an http(s)
 * URL is a URL, anything else base64, its format read from its first bytes unless given).
 */
public final class Images {

  /** One entry: a URL template, or a field with how to read it (type and format may be null). */
  public record Source(String template, String field, String type, String format) {}

  static final Set<String> FORMATS = Set.of("png", "jpeg", "jpg", "gif", "webp");

  private static final String ENTRY = """
      {"oneOf": [
        {"type": "string"},
        {"type": "object", "additionalProperties": false, "required": ["field"], "properties": {
          "field": {"type": "string", "description": "The record field (or step) holding the image or images."},
          "type": {"enum": ["url", "base64"], "description": "How to read the values (default: an http(s) URL is a URL, anything else base64)."},
          "format": {"enum": ["png", "jpeg", "jpg", "gif", "webp"], "description": "The format of base64 values (default: read from their first bytes)."}}}]}
      """;

  /** The JSON Schema property, for the model kinds' schemas. */
  static final String PROPERTY = """
      "images": {"description": "Images sent with the user message (vision models): a template whose result is a URL, or {field, type, format}: a record field holding a URL, base64, a data: URI, or a list of them; or a list of such entries.",
        "oneOf": [%s, {"type": "array", "minItems": 1, "items": %s}]}
      """.formatted(ENTRY, ENTRY);

  private static final Pattern DATA_URI = Pattern.compile("data:image/(png|jpeg|jpg|gif|webp);base64,([A-Za-z0-9+/=\\s]+)");
  private static final Pattern WEB_URL = Pattern.compile("https?://\\S+");

  private Images() {}

  /** The step's entries (empty without {@code images}); a base64 type without a format is allowed: it is read from the bytes. */
  static List<Source> read(StepSpec step) {
    JsonNode node = step.config().get("images");
    List<Source> sources = new ArrayList<>();
    if (node == null || node.isNull()) {
      return sources;
    }
    for (JsonNode entry : node.isArray() ? node : List.of(node)) {
      sources.add(entry.isTextual() ? new Source(entry.asText(), null, null, null)
          : new Source(null, entry.get("field").asText(), text(entry, "type"), text(entry, "format")));
    }
    return sources;
  }

  private static String text(JsonNode entry, String key) {
    return entry.hasNonNull(key) ? entry.get(key).asText() : null;
  }

  /** The URL templates, by key ({@code images[1]}). */
  static Map<String, String> templates(List<Source> sources) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < sources.size(); i++) {
      if (sources.get(i).template() != null) {
        out.put(key(sources, i), sources.get(i).template());
      }
    }
    return out;
  }

  /** The fields read, by key ({@code images[0].field}). */
  static Map<String, String> names(List<Source> sources) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < sources.size(); i++) {
      if (sources.get(i).field() != null) {
        out.put(key(sources, i) + ".field", sources.get(i).field());
      }
    }
    return out;
  }

  private static String key(List<Source> sources, int i) {
    return sources.size() == 1 ? "images" : "images[" + i + "]";
  }

  /** The images of a record, as URLs or data: URIs; a value that is no image fails the render, saying which and why. */
  static List<String> resolve(List<Source> sources, Map<String, Object> context) {
    List<String> urls = new ArrayList<>();
    for (int i = 0; i < sources.size(); i++) {
      Source s = sources.get(i);
      String where = key(sources, i);
      if (s.template() != null) {
        String url = Templates.get().render(s.template(), context).trim();
        if (!WEB_URL.matcher(url).matches() && !DATA_URI.matcher(url).matches()) {
          throw new TemplateException(where + ": renders to " + shown(url) + ", which is neither an http(s) URL nor a data:image URI");
        }
        urls.add(url);
        continue;
      }
      List<String> values = values(context.get(s.field()), where + " (field `" + s.field() + "`)");
      for (String value : values) {
        urls.add(image(value.trim(), s, where + " (field `" + s.field() + "`)"));
      }
    }
    return urls;
  }

  /** A field's value as image values: a list, a JSON list in a string, or one string. */
  private static List<String> values(Object value, String where) {
    if (value == null) {
      throw new TemplateException(where + ": is empty: no image to send");
    }
    List<?> list = value instanceof List<?> l ? l : null;
    if (list == null && value instanceof String text && text.trim().startsWith("[")) {
      try {
        list = Json.MAPPER.readValue(text, List.class);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        list = null;
      }
    }
    if (list == null) {
      return value instanceof String text ? List.of(text) : fail(where + ": holds " + value.getClass().getSimpleName().toLowerCase()
          + ", not an image (a URL, base64 or a data: URI, or a list of them)");
    }
    List<String> out = new ArrayList<>();
    for (Object item : list) {
      if (!(item instanceof String text)) {
        return fail(where + ": a list item is " + (item == null ? "null" : item.toString()) + ", not an image");
      }
      out.add(text);
    }
    return out;
  }

  private static String image(String value, Source s, String where) {
    if (value.startsWith("data:")) {
      var m = DATA_URI.matcher(value);
      if (!m.matches()) {
        throw new TemplateException(where + ": a data: URI that is not a base64 png, jpeg, gif or webp image");
      }
      if (s.format() != null && !same(s.format(), m.group(1))) {
        throw new TemplateException(where + ": format " + s.format() + " does not match the data: URI's image/" + m.group(1));
      }
      return value;
    }
    boolean web = WEB_URL.matcher(value).matches();
    if ("url".equals(s.type()) || (s.type() == null && web)) {
      if (!web) {
        throw new TemplateException(where + ": " + shown(value) + " is not an http(s) URL");
      }
      return value;
    }
    String data = value.replaceAll("\\s", "");
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(data);
    } catch (IllegalArgumentException e) {
      throw new TemplateException(where + ": neither an http(s) URL nor base64 (" + e.getMessage() + ")");
    }
    String format = s.format() != null ? s.format() : detect(bytes);
    if (format == null) {
      throw new TemplateException(where + ": base64 that is not a png, jpeg, gif or webp image; give `format` if it is one");
    }
    return "data:image/" + (format.equals("jpg") ? "jpeg" : format) + ";base64," + data;
  }

  /** An image's format from its first bytes (its magic number), or null. */
  static String detect(byte[] b) {
    if (starts(b, 0x89, 'P', 'N', 'G')) {
      return "png";
    }
    if (starts(b, 0xFF, 0xD8, 0xFF)) {
      return "jpeg";
    }
    if (starts(b, 'G', 'I', 'F', '8')) {
      return "gif";
    }
    if (b.length >= 12 && starts(b, 'R', 'I', 'F', 'F') && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
      return "webp";
    }
    return null;
  }

  private static boolean starts(byte[] b, int... magic) {
    if (b.length < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if ((b[i] & 0xFF) != magic[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean same(String format, String mime) {
    return format.equals(mime) || Set.of(format, mime).equals(Set.of("jpg", "jpeg"));
  }

  private static String shown(String value) {
    return value.isEmpty() ? "nothing" : "`" + (value.length() > 60 ? value.substring(0, 60) + "..." : value) + "`";
  }

  private static <T> T fail(String message) {
    throw new TemplateException(message);
  }
}
