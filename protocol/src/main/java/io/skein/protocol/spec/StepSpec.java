package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One step of the per-record graph, as the spec gives it: the keys every step has, and
 * {@code config}, the rest of its mapping, which its kind parses and checks (see the worker's
 * {@code StepKind}). Its value becomes the record field named after the step.
 *
 * <p>{@code when}: a condition (Jinja, without braces); when it is false the step is skipped and its
 * value is null. {@code n}: that many independent samples, the value then being a list.
 * {@code drop}: computed but left out of the row. {@code withTrace}: {@code none}, {@code last} or
 * {@code all} of the step's messages as {@code <name>__trace}. {@code extractReasoning}: the
 * model's reasoning ({@code <think>} blocks or {@code reasoning_content}) as {@code <name>__reasoning_content}.
 */
public record StepSpec(
    String name,
    String kind,
    int position,
    String when,
    int n,
    boolean drop,
    String withTrace,
    boolean extractReasoning,
    ObjectNode config) {

  public static final String KIND_LLM = "llm";

  /** Where this step is in the spec, for error messages: {@code steps[2] (answer)}. */
  public String path() {
    return "steps[" + position + "] (" + name + ")";
  }

  /** A text key of the kind's config, or null when absent. */
  public String text(String key) {
    JsonNode v = config.get(key);
    return v == null || v.isNull() ? null : v.asText();
  }
}
