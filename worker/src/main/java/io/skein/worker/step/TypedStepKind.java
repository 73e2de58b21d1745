package io.skein.worker.step;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.StepSpec;

/**
 * A {@link StepKind} whose keys are the record {@code P}: its schema is generated from {@code P}
 * and each step's keys arrive bound to it ({@link StepParams}). The easy way to write a kind in
 * Java; a plugin jar lists it in {@code META-INF/services/io.skein.worker.step.StepKind}.
 */
public abstract class TypedStepKind<P> implements StepKind {

  private final Class<P> params;
  private final ObjectNode schema;

  protected TypedStepKind(Class<P> params) {
    this.params = params;
    this.schema = StepParams.schema(params);
  }

  @Override
  public ObjectNode schema() {
    return schema.deepCopy();
  }

  @Override
  public final StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    P bound = StepParams.bind(step, params, problems);
    return bound == null ? null : compile(step, bound, spec, problems);
  }

  /** Builds the step's logic from its bound keys; further problems go to {@code problems}, by key. */
  protected abstract StepLogic compile(StepSpec step, P params, SpecContext spec, Problems problems);
}
