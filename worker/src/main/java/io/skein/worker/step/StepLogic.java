package io.skein.worker.step;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.spec.ModelSpec;
import java.util.List;
import java.util.Map;

/**
 * A compiled step: pure functions from the record's state (through a {@link SampleView}) to what the
 * step does next. Immutable and shared by every record of a job.
 */
public interface StepLogic {

  /**
   * Every template the step renders, by the key it sits at ({@code prompt},
   * {@code messages[1].content}); a condition as {@code {{ condition }}}. The step graph and the
   * check of every name come from these.
   */
  Map<String, String> templates();

  /**
   * Templates that read the step's own value by its name (a sampler's {@code accept}: the drawn
   * candidate), by key: their other names are dependencies, the step's own is not.
   */
  default Map<String, String> ownValueTemplates() {
    return Map.of();
  }

  /** Names the step reads without a template (a validator's target, a subcategory's parent), by key. */
  default Map<String, String> names() {
    return Map.of();
  }

  /** True when values are computed here, without a model: they are persisted as soon as computed. */
  boolean local();

  /** The model alias the step calls; null for local steps. */
  default ModelSpec model() {
    return null;
  }

  /** The step whose conversation this one continues, or null. */
  default String continues() {
    return null;
  }

  /** What one sample of the step comes to now. */
  Outcome next(SampleView view);

  /**
   * What the step reads from an answer as it arrives; persisted with the call
   * ({@code CallSucceeded.result}), so replays and newer versions decide as the record did.
   */
  default JsonNode interpret(SampleView view, CallId call, String answer) {
    return null;
  }

  /** The whole conversation the call {@code id} sent (for annotated rows); empty for local steps. */
  default List<ChatMessage> sent(SampleView view, CallId id) {
    return List.of();
  }

  /** The conversation that gave the value, the answer last (traces, {@code continue}); empty for local steps. */
  default List<ChatMessage> conversation(SampleView view) {
    return List.of();
  }

  /** For validators with {@code on_fail: regenerate}: the step they send back; else null. */
  default String regenerates() {
    return null;
  }

  /** For such validators: what is wrong with a candidate value of that step (empty: nothing). */
  default List<String> check(JsonNode value) {
    return List.of();
  }
}
