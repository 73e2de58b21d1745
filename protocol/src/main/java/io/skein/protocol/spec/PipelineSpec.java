package io.skein.protocol.spec;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed, structurally valid pipeline spec. Template references and the step graph are checked
 * separately (see the worker's {@code PipelinePlan}), since that needs the record fields.
 * {@code cache}: answers may come from, and go to, the response cache (keyed by the exact request).
 * {@code output} is null when the spec gives none: rows then hold every field and step value.
 * {@code files}: texts templates read as {@code files.<name>} (stored with the job, so every node
 * reads the same bytes). {@code tools}: the sets of MCP tools its model steps may offer.
 */
public record PipelineSpec(
    String name,
    long seed,
    Map<String, ModelSpec> models,
    InputSpec input,
    List<StepSpec> steps,
    OutputSpec output,
    RetrySpec retry,
    Integer maxInFlight,
    boolean cache,
    List<ProcessorSpec> processors,
    Map<String, String> files,
    TargetSpec target,
    DedupeSpec dedupe,
    ToolsSpec tools,
    EarlyStop earlyStop) {

  public PipelineSpec {
    tools = tools == null ? ToolsSpec.NONE : tools;
    earlyStop = earlyStop == null ? EarlyStop.NONE : earlyStop;
  }

  /** The extra datasets, in spec order. */
  public List<ProcessorSpec> datasets() {
    return processors.stream().filter(p -> p.template() != null).toList();
  }

  /** Fields the processors leave out of the main output row. */
  public List<String> dropped() {
    return processors.stream().flatMap(p -> p.drop().stream()).toList();
  }

  public Optional<StepSpec> step(String stepName) {
    return steps.stream().filter(s -> s.name().equals(stepName)).findFirst();
  }
}
