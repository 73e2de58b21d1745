package io.skein.worker.step;

import io.skein.protocol.spec.ModelSpec;
import io.skein.protocol.spec.PipelineSpec;
import io.skein.protocol.spec.StepSpec;
import io.skein.protocol.spec.SpecParser;
import java.util.LinkedHashSet;
import java.util.Set;

/** What a step kind may look up while it compiles a step: the spec's model aliases and other steps. */
public record SpecContext(PipelineSpec spec) {

  public Set<String> stepNames() {
    Set<String> names = new LinkedHashSet<>();
    spec.steps().forEach(s -> names.add(s.name()));
    return names;
  }

  public StepSpec step(String name) {
    return spec.step(name).orElse(null);
  }

  /** The alias {@code alias} resolves to, or null after reporting it as unknown at {@code key} of {@code step}. */
  public ModelSpec model(String alias, StepSpec step, String key, Problems problems) {
    ModelSpec model = spec.models().get(alias);
    if (model == null) {
      problems.at(step, key, "unknown model alias `" + alias + "`" + SpecParser.suggest(alias, spec.models().keySet())
          + " (declared under models: " + spec.models().keySet() + ")");
    }
    return model;
  }
}
