package io.skein.worker.step;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.StepSpec;

/**
 * A kind of step ({@code kind:} in a spec): one class, found through {@link java.util.ServiceLoader}
 * (listed in {@code META-INF/services/io.skein.worker.step.StepKind}). The built-in kinds use this
 * interface as a custom Java kind would; adding one touches no entity, planner or parser code.
 *
 * <p>A kind declares its keys as a JSON Schema fragment (the spec's schema, {@code skein schema}, is
 * assembled from these, and every step is checked against it before {@link #compile} sees it), then
 * checks what a schema cannot say (names, model aliases, consistency) and builds the step's
 * {@link StepLogic}.
 */
public interface StepKind {

  /** The value of {@code kind:} that selects it. */
  String name();

  /** One sentence for the schema and the docs. */
  String description();

  /**
   * The keys this kind adds to a step, as JSON Schema: {@code {"properties": {...}, "required": [...]}},
   * each property with a {@code description}. The keys every step has (name, kind, when, n, drop,
   * with_trace, extract_reasoning) are added by Skein.
   */
  ObjectNode schema();

  /**
   * Builds the logic of {@code step}, whose config has passed {@link #schema()}; every further
   * problem goes to {@code problems} with its path (e.g. {@code steps[2] (price).weights}).
   */
  StepLogic compile(StepSpec step, SpecContext spec, Problems problems);
}
