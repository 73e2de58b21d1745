package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Json;
import io.skein.worker.step.Outcome;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SampleView;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepLogic;
import io.skein.worker.template.Templates;
import java.util.Map;

/** {@code kind: expression}: a Jinja template whose result, as {@code type} (str, int, float, bool or json), is the value. */
public final class ExpressionKind implements StepKind {

  @Override
  public String name() {
    return "expression";
  }

  @Override
  public String description() {
    return "Compute a value from other values with a Jinja template, without a model.";
  }

  @Override
  public ObjectNode schema() {
    return Json.object("""
        {"required": ["expr"], "properties": {
          "expr": {"type": "string", "description": "A Jinja template, e.g. {{ 'good' if quality.helpfulness.score >= 4 else 'poor' }}."},
          "type": {"enum": ["str", "int", "float", "bool", "json"], "description": "What the rendered text becomes (default str); json parses it, e.g. from {{ x | tojson }}."}
        }}""");
  }

  @Override
  public StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    return new Logic(step.text("expr"), step.config().path("type").asText("str"));
  }

  private record Logic(String expr, String type) implements StepLogic {

    @Override
    public Map<String, String> templates() {
      return Map.of("expr", expr);
    }

    @Override
    public boolean local() {
      return true;
    }

    @Override
    public Outcome next(SampleView view) {
      String text = Templates.get().render(expr, view.context());
      try {
        JsonNode value = type.equals("json") ? Json.MAPPER.readTree(text) : Conversions.convert(Json.NODES.textNode(text), type);
        return new Outcome.Value(value);
      } catch (Exception e) {
        return new Outcome.Failed("expression_error", "`" + io.skein.worker.gateway.ModelOutcome.Errors.abbreviate(text, 200) + "` is not a " + type + ": " + e.getMessage());
      }
    }
  }
}
