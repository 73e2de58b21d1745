package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Json;
import io.skein.worker.step.ModelConfig;
import io.skein.worker.step.ModelStep;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepLogic;

/** {@code kind: llm} (the default): a model call whose value is its answer's text. */
public final class LlmKind implements StepKind {

  @Override
  public String name() {
    return "llm";
  }

  @Override
  public String description() {
    return "Ask a model; the value is its answer as text.";
  }

  @Override
  public ObjectNode schema() {
    return Json.object("{\"properties\": {" + ModelConfig.PROPERTIES + "}}");
  }

  @Override
  public StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    return new Text(step, ModelConfig.read(step, spec, problems, 0, 2));
  }

  static final class Text extends ModelStep {
    Text(StepSpec step, ModelConfig config) {
      super(step, config);
    }

    @Override
    protected Read read(String answer) {
      return Read.ok(TextNode.valueOf(answer));
    }
  }
}
