package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.spec.ModelSpec;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.step.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a record should do next, as a pure function of its plan, input and journal state (plus the
 * calls now in flight and the clock): persist the values it computed, send these calls, wait until
 * then, finish, or fail. Each step's kind says what the step wants ({@link RecordView#settle});
 * the {@link RetryPolicy} says which of those calls may go now. Steps whose inputs are ready run
 * together; a call answered in the journal is never planned again.
 */
public final class StepPlanner {

  /** Error type of a record whose template could not be rendered. */
  public static final String TEMPLATE_ERROR = "template_error";

  private StepPlanner() {}

  public sealed interface Decision {}

  /**
   * Persist {@code computed} values and {@code skipped} steps (if any), then send {@code calls}; look
   * again at {@code wakeAt} (Long.MAX_VALUE: when a call answers).
   */
  public record Proceed(List<PlannedCall> calls, long wakeAt, Map<String, JsonNode> computed, List<String> skipped,
      List<Outcome.ToolUse> tools) implements Decision {
    public Proceed(List<PlannedCall> calls, long wakeAt, Map<String, JsonNode> computed, List<String> skipped) {
      this(calls, wakeAt, computed, skipped, List.of());
    }

    public boolean computesValues() {
      return !computed.isEmpty() || !skipped.isEmpty();
    }
  }

  public record Finish() implements Decision {}

  public record Fail(String errorType, String message, String step) implements Decision {}

  /** A call to {@code model} was refused in a way that blocks the job (see {@code Errors.blocksJob}); wait for a resume. */
  public record Blocked(String model, String step, String errorType, String message, long atMillis) implements Decision {}

  /**
   * A call to make: its identity, model, the messages it adds, the whole conversation to send, the
   * schema its answer must meet (or null), and the tool sets whose tools it offers.
   */
  public record PlannedCall(CallId id, ModelSpec model, int attempt, List<ChatMessage> newMessages, List<ChatMessage> messages,
      ObjectNode schema, List<String> tools, ObjectNode body) {
    public PlannedCall(CallId id, ModelSpec model, int attempt, List<ChatMessage> newMessages, List<ChatMessage> messages,
        ObjectNode schema, List<String> tools) {
      this(id, model, attempt, newMessages, messages, schema, tools, null);
    }

    public PlannedCall(CallId id, ModelSpec model, int attempt, List<ChatMessage> newMessages, List<ChatMessage> messages,
        ObjectNode schema) {
      this(id, model, attempt, newMessages, messages, schema, List.of());
    }
  }

  /**
   * {@code resumedAt}: when the job was last resumed; a refusal that blocks the job and is older
   * than that is tried again at once, a newer one makes the record {@link Blocked}.
   */
  public static Decision next(PipelinePlan plan, RecordInput input, RecordState state, Set<CallId> inFlight,
      Map<CallId, Long> notBefore, long now, long resumedAt) {
    if (input.error() != null) {
      return new Fail("invalid_input", input.error(), null);
    }
    RecordView.Settled settled = new RecordView(plan, input, state).settle();
    if (settled.failed()) {
      return new Fail(settled.errorType(), settled.message(), settled.failedStep());
    }
    if (settled.done() && settled.computed().isEmpty() && settled.skipped().isEmpty()) {
      return new Finish();
    }
    RetryPolicy retry = new RetryPolicy(plan.spec().retry(), state, notBefore, resumedAt);
    List<PlannedCall> calls = new ArrayList<>();
    List<Outcome.ToolUse> tools = new ArrayList<>();
    long wakeAt = Long.MAX_VALUE;
    for (RecordView.Wanted wanted : settled.calls()) {
      if (wanted.tool() != null) {
        tools.add(wanted.tool()); // the record leaves out those already running
        continue;
      }
      CallId id = wanted.call().id();
      if (inFlight.contains(id)) {
        continue;
      }
      RetryPolicy.Verdict verdict = retry.verdict(id);
      if (verdict instanceof RetryPolicy.GiveUp g) {
        return new Fail(g.errorType(), g.message(), id.step());
      }
      if (verdict instanceof RetryPolicy.Refused r) {
        return new Blocked(wanted.step().model().alias(), id.step(), r.errorType(), r.message(), r.atMillis());
      }
      long readyAt = ((RetryPolicy.Ready) verdict).atMillis();
      if (readyAt > now) {
        wakeAt = Math.min(wakeAt, readyAt);
        continue;
      }
      calls.add(new PlannedCall(id, wanted.call().model(), state.failedAttempts(id).size() + 1, wanted.call().added(),
          wanted.call().messages(), wanted.call().schema(), wanted.call().tools(), wanted.call().body()));
    }
    return new Proceed(calls, wakeAt, settled.computed(), settled.skipped(), tools);
  }
}
