package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Json;
import io.skein.worker.step.ModelStep;
import io.skein.worker.step.Outcome;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SampleView;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepLogic;
import java.util.List;
import java.util.Map;

/**
 * {@code kind: validator}: checks another step's value (or a record field) locally, without a
 * subprocess: {@code regex}, {@code length}, {@code json}, {@code json-schema}, {@code sql} (JSqlParser,
 * with dialects), {@code python} (Python 3 syntax through tree-sitter-python). The value is
 * {@code {valid, errors}}, or with {@code shape: data-designer} Data Designer's (see {@link #dataDesigner}). {@code on_fail}: {@code keep} (the default:
 * the row says so), {@code error} (the record becomes an error row naming the validator and why), or
 * {@code regenerate} (the target step, a model step, asks again with the errors, up to its
 * {@code max_restarts}; then the record fails).
 */
public final class ValidatorKind implements StepKind {

  @Override
  public String name() {
    return "validator";
  }

  @Override
  public String description() {
    return "Check a value locally (regex, length, json, json-schema, sql, python); the value is {valid, errors}.";
  }

  @Override
  public ObjectNode schema() {
    return Json.object("""
        {"required": ["validator", "target"], "properties": {
          "validator": {"enum": %s, "description": "Which check."},
          "target": {"type": "string", "description": "The step (or record field) whose value is checked."},
          "on_fail": {"enum": ["keep", "error", "regenerate"], "description": "keep (default): record the result; error: the record fails; regenerate: the target asks its model again with the errors."},
          "pattern": {"type": "string", "description": "regex: a Java regular expression the text must contain (anchor it with ^...$ to match the whole)."},
          "ignore_case": {"type": "boolean", "description": "regex: match without regard to case."},
          "min": {"type": "integer", "minimum": 0, "description": "length: the fewest characters (or words)."},
          "max": {"type": "integer", "minimum": 0, "description": "length: the most characters (or words)."},
          "unit": {"enum": ["chars", "words"], "description": "length: count characters (default) or words."},
          "schema": {"type": "object", "description": "json-schema: the JSON Schema the value must meet."},
          "dialect": {"enum": %s, "description": "sql: the dialect (default ansi)."},
          "shape": {"enum": ["skein", "data-designer"], "description": "skein (default): the value is {valid, errors}; data-designer: Data Designer's, {is_valid, python_linter_score, python_linter_severity, python_linter_messages} for python, {is_valid, error_messages} for the others."}
        }}""".formatted(Json.MAPPER.valueToTree(Validators.NAMES), Json.MAPPER.valueToTree(Validators.DIALECTS)));
  }

  @Override
  public StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    String validator = step.text("validator");
    String onFail = step.config().path("on_fail").asText("keep");
    Validators.Check check = Validators.compile(validator, step.config(), (key, message) -> problems.at(step, key, message));
    boolean dataDesigner = step.config().path("shape").asText("skein").equals("data-designer");
    return new Logic(step.name(), step.text("target"), onFail, check, dataDesigner ? validator : null);
  }

  /**
   * Data Designer's value for {@code validator}'s {@code errors}. Python: its linter's fields, from
   * Skein's syntax check (no linter runs): a syntax error is a {@code fatal} message and scores 0 as
   * pylint's formula does; code without one scores 10 with severity {@code none}. The others:
   * {@code error_messages}, one line per error ({@code ""} when valid), as its SQL validator writes them.
   */
  static ObjectNode dataDesigner(String validator, List<String> errors) {
    ObjectNode result = Json.MAPPER.createObjectNode().put("is_valid", errors.isEmpty());
    if (!validator.equals("python")) {
      return result.put("error_messages", String.join("\n", errors));
    }
    result.put("python_linter_score", errors.isEmpty() ? 10.0 : 0.0);
    result.put("python_linter_severity", errors.isEmpty() ? "none" : "fatal");
    ArrayNode messages = result.putArray("python_linter_messages");
    errors.forEach(e -> messages.addObject().put("type", "fatal").put("message", e));
    return result;
  }

  /** {@code dataDesignerShape}: the validator's name when the value takes Data Designer's shape, else null. */
  private record Logic(String name, String target, String onFail, Validators.Check check, String dataDesignerShape)
      implements StepLogic {

    @Override
    public Map<String, String> templates() {
      return Map.of();
    }

    @Override
    public Map<String, String> names() {
      return Map.of("target", target);
    }

    @Override
    public boolean local() {
      return true;
    }

    @Override
    public Outcome next(SampleView view) {
      JsonNode value = view.value(target);
      if (value == null) {
        Object field = view.context().get(target);
        value = field == null ? null : Json.MAPPER.valueToTree(field);
      }
      List<String> errors = check == null ? List.of() : check.errors(value);
      if (!errors.isEmpty() && onFail.equals("error")) {
        return new Outcome.Failed(ModelStep.VALIDATION_FAILED, "validator " + name + " (" + target + "): " + String.join("; ", errors));
      }
      if (dataDesignerShape != null) {
        return new Outcome.Value(dataDesigner(dataDesignerShape, errors));
      }
      ObjectNode result = Json.MAPPER.createObjectNode().put("valid", errors.isEmpty());
      ArrayNode list = result.putArray("errors");
      errors.forEach(list::add);
      return new Outcome.Value(result);
    }

    @Override
    public String regenerates() {
      return onFail.equals("regenerate") ? target : null;
    }

    @Override
    public List<String> check(JsonNode value) {
      return check == null ? List.of() : check.errors(value).stream().map(e -> name + ": " + e).toList();
    }
  }
}
