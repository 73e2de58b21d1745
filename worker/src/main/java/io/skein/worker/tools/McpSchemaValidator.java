package io.skein.worker.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.skein.worker.step.JsonSchemas;
import java.util.List;
import java.util.Map;

/**
 * The MCP SDK's schema checks (a tool's structured output against its output schema, a tool's
 * input against its input schema) with the JSON Schema library Skein already uses: the SDK's own
 * validator is built on another major version of it, which cannot share the classpath.
 */
public final class McpSchemaValidator implements JsonSchemaValidator {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public ValidationResponse validate(Map<String, Object> schema, Object content) {
    JsonNode value = JSON.valueToTree(content);
    try {
      List<String> errors = JsonSchemas.validate(JsonSchemas.compile(JSON.valueToTree(schema)), value);
      return errors.isEmpty() ? ValidationResponse.asValid(value.toString()) : ValidationResponse.asInvalid(String.join("; ", errors));
    } catch (RuntimeException e) {
      return ValidationResponse.asInvalid("the schema cannot be read: " + e.getMessage());
    }
  }
}
