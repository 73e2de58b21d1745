package io.skein.protocol.spec;

import java.util.List;

/**
 * One step of the per-record graph. Its output (the model's answer) becomes the record field named
 * after the step. A step either renders {@code system}/{@code prompt}, or gives the full
 * {@code messages}; a step with {@code continueFrom} appends its prompt to that step's conversation.
 */
public record StepSpec(
    String name,
    String kind,
    String model,
    String system,
    String prompt,
    List<MessageTemplate> messages,
    String continueFrom) {

  public static final String KIND_LLM = "llm";
}
