package io.skein.worker.step;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaId;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.resource.AllowSchemaLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * JSON Schema through networknt's validator (draft 2020-12, or the draft a schema's
 * {@code $schema} names): checking that a user's schema is one, validating values against it, and
 * reading a model's JSON answer (inside a code fence or around prose, as models often give it).
 */
public final class JsonSchemas {

  /**
   * Schemas come from spec authors and are compiled on the server: a {@code $ref} may point into
   * the schema or at the bundled meta-schemas, never at a URL or a file (no fetching on a user's behalf).
   */
  private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
      builder -> builder.schemaLoaders(loaders -> loaders.add(new AllowSchemaLoader(iri -> iri.toString().startsWith("classpath:")))));
  private static final JsonSchema META = FACTORY.getSchema(SchemaLocation.of(SchemaId.V202012));
  private static final Pattern FENCE = Pattern.compile("(?s)```[A-Za-z0-9_-]*\\s*\\n(.*?)```");

  private JsonSchemas() {}

  /** What makes {@code schema} not a JSON Schema (empty: it is one). */
  public static List<String> problemsOfSchema(JsonNode schema) {
    List<String> out = validate(META, schema);
    if (out.isEmpty()) {
      try {
        FACTORY.getSchema(schema).validate(Json.NODES.objectNode());
      } catch (RuntimeException e) {
        out.add(e.getMessage());
      }
    }
    return out;
  }

  public static JsonSchema compile(JsonNode schema) {
    return FACTORY.getSchema(schema);
  }

  /** The problems of {@code value} against {@code schema}, each as "path: message". */
  public static List<String> validate(JsonSchema schema, JsonNode value) {
    List<String> out = new ArrayList<>();
    for (ValidationMessage m : schema.validate(value)) {
      out.add(m.getMessage());
    }
    return out;
  }

  /** The JSON in a model's answer: the whole text, a fenced block, or the outermost braces; throws with a reason if none parses. */
  public static JsonNode parseAnswer(String answer) {
    String text = answer.strip();
    if (text.isEmpty()) {
      throw new IllegalArgumentException("the answer is empty");
    }
    Matcher fence = FENCE.matcher(text);
    if (fence.find()) {
      text = fence.group(1).strip();
    }
    try {
      return Json.MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      int open = Math.min(index(text, '{'), index(text, '['));
      int close = Math.max(text.lastIndexOf('}'), text.lastIndexOf(']'));
      if (open < close) {
        try {
          return Json.MAPPER.readTree(text.substring(open, close + 1));
        } catch (JsonProcessingException ignored) {
          // report the first error, on the whole answer
        }
      }
      throw new IllegalArgumentException("the answer is not JSON: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()));
    }
  }

  private static int index(String text, char c) {
    int i = text.indexOf(c);
    return i < 0 ? Integer.MAX_VALUE : i;
  }
}
