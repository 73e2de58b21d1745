package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Json;
import io.skein.worker.step.JsonSchemas;
import io.skein.worker.step.ModelConfig;
import io.skein.worker.step.ModelStep;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepLogic;
import java.util.List;

/**
 * {@code kind: llm-structured}: a model call whose answer must be JSON that meets {@code schema}
 * (sent as {@code response_format: json_schema}); the parsed JSON is the value. An answer that does
 * not parse or breaks the schema goes back with the validator's errors (up to
 * {@code max_correction_steps}), then the conversation starts over (up to {@code max_restarts}).
 */
public final class StructuredKind implements StepKind {

  @Override
  public String name() {
    return "llm-structured";
  }

  @Override
  public String description() {
    return "Ask a model for JSON that meets a JSON Schema; the value is the parsed JSON. Wrong answers are corrected in the same conversation, then restarted.";
  }

  @Override
  public ObjectNode schema() {
    return Json.object("{\"properties\": {" + ModelConfig.PROPERTIES + ", " + ModelConfig.CORRECTIONS + """
        , "schema": {"type": "object", "description": "The JSON Schema the answer must meet."},
          "schema_file": {"type": "string", "description": "With `skein run`: a file beside the spec holding the schema (JSON or YAML), read and stored inline."}
        }}""");
  }

  @Override
  public StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    ModelConfig config = ModelConfig.read(step, spec, problems, 2, 1);
    if (step.config().has("schema_file")) {
      problems.at(step, "schema_file", "is read by `skein run` from beside the spec; a server reads no files: send the schema inline as `schema`");
      return new Logic(step, config, Json.NODES.objectNode(), null);
    }
    if (!step.config().path("schema").isObject()) {
      problems.at(step, "schema", "missing: the JSON Schema the answer must meet (or schema_file with `skein run`)");
      return new Logic(step, config, Json.NODES.objectNode(), null);
    }
    ObjectNode schema = (ObjectNode) step.config().get("schema");
    List<String> wrong = JsonSchemas.problemsOfSchema(schema);
    if (!wrong.isEmpty()) {
      problems.at(step, "schema", "is not a JSON Schema: " + String.join("; ", wrong));
      return new Logic(step, config, schema, null);
    }
    return new Logic(step, config, schema, JsonSchemas.compile(schema));
  }

  static final class Logic extends ModelStep {
    private final ObjectNode schema;
    private final JsonSchema compiled;

    Logic(StepSpec step, ModelConfig config, ObjectNode schema, JsonSchema compiled) {
      super(step, config);
      this.schema = schema;
      this.compiled = compiled;
    }

    @Override
    protected ObjectNode answerSchema() {
      return schema;
    }

    @Override
    protected Read read(String answer) {
      return json(answer, compiled, value -> { });
    }

    @Override
    protected String correction(List<String> errors) {
      return "Your answer does not meet the JSON Schema:\n- " + String.join("\n- ", errors)
          + "\nAnswer again with only the corrected JSON.";
    }
  }
}
