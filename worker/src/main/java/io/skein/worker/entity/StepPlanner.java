package io.skein.worker.entity;

import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.spec.MessageTemplate;
import io.skein.protocol.spec.ModelSpec;
import io.skein.protocol.spec.RetrySpec;
import io.skein.worker.gateway.ModelOutcome;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.template.TemplateException;
import io.skein.worker.template.Templates;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a record should do next, as a pure function of its plan, input and journal state (plus the
 * calls now in flight and the clock): send these calls, wait until then, finish, or fail. Steps
 * whose inputs are ready run together; a call already answered in the journal is never planned
 * again; a failed call is planned again after a backoff computed from its persisted failures, so
 * the schedule survives a crash.
 */
public final class StepPlanner {

  /** Error type of a record whose template could not be rendered. */
  public static final String TEMPLATE_ERROR = "template_error";

  private StepPlanner() {}

  public sealed interface Decision {}

  /** Send {@code calls} now; look again at {@code wakeAt} (Long.MAX_VALUE: when a call answers). */
  public record Proceed(List<PlannedCall> calls, long wakeAt) implements Decision {}

  public record Finish() implements Decision {}

  public record Fail(String errorType, String message, String step) implements Decision {}

  /** A call to {@code model} was refused in a way that blocks the job (see {@code Errors.blocksJob}); wait for a resume. */
  public record Blocked(String model, String step, String errorType, String message, long atMillis) implements Decision {}

  /** A call to make: its identity, model, the messages it adds, and the whole conversation to send. */
  public record PlannedCall(CallId id, ModelSpec model, int attempt, List<ChatMessage> newMessages, List<ChatMessage> messages) {}

  /**
   * {@code resumedAt}: when the job was last resumed; a refusal that blocks the job and is older
   * than that is tried again at once, a newer one makes the record {@link Blocked}. Such refusals
   * do not count against {@code retry.max_attempts}.
   */
  public static Decision next(PipelinePlan plan, RecordInput input, RecordState state, Set<CallId> inFlight,
      Map<CallId, Long> notBefore, long now, long resumedAt) {
    if (input.error() != null) {
      return new Fail("invalid_input", input.error(), null);
    }
    RetrySpec retry = plan.spec().retry();
    List<PlannedCall> calls = new ArrayList<>();
    long wakeAt = Long.MAX_VALUE;
    boolean allDone = true;
    Map<String, Object> context = null;
    for (PipelinePlan.Step step : plan.steps()) {
      if (state.result(step.name()) != null) {
        continue;
      }
      allDone = false;
      if (!step.dependsOn().stream().allMatch(d -> state.result(d) != null)) {
        continue;
      }
      CallId id = CallId.of(step.name());
      if (inFlight.contains(id)) {
        continue;
      }
      List<CallFailed> failed = state.failures(id);
      long readyAt = notBefore.getOrDefault(id, 0L);
      if (!failed.isEmpty()) {
        CallFailed last = failed.get(failed.size() - 1);
        if (ModelOutcome.Errors.blocksJob(last.errorType())) {
          if (last.atMillis() >= resumedAt) {
            return new Blocked(step.model().alias(), step.name(), last.errorType(), last.message(), last.atMillis());
          }
          // Refused before the job was resumed: try again now, whatever the backoff.
        } else {
          int counted = (int) failed.stream().filter(f -> !ModelOutcome.Errors.blocksJob(f.errorType())).count();
          if (!last.retryable()) {
            return new Fail(last.errorType(), last.message(), step.name());
          }
          if (counted >= retry.maxAttempts()) {
            return new Fail(last.errorType(), "gave up after " + counted + " attempts; last: " + last.message(), step.name());
          }
          readyAt = Math.max(readyAt, last.atMillis() + backoff(retry, counted, last));
        }
      }
      if (readyAt > now) {
        wakeAt = Math.min(wakeAt, readyAt);
        continue;
      }
      if (context == null) {
        context = context(plan, input, state);
      }
      try {
        List<ChatMessage> added = render(step, context);
        List<ChatMessage> messages = new ArrayList<>(conversation(plan, state, step.spec().continueFrom()));
        messages.addAll(added);
        calls.add(new PlannedCall(id, step.model(), failed.size() + 1, added, messages));
      } catch (TemplateException e) {
        return new Fail(TEMPLATE_ERROR, "steps." + step.name() + ": " + e.getMessage(), step.name());
      }
    }
    return allDone ? new Finish() : new Proceed(calls, wakeAt);
  }

  /**
   * Exponential backoff with "equal jitter" (half fixed, half random), the random half derived from
   * the failure itself so a replayed record waits as long as it would have. Retry-After wins when longer.
   */
  static long backoff(RetrySpec retry, int failures, CallFailed last) {
    long exp = retry.initialBackoffMillis() << Math.min(failures - 1, 20);
    long base = Math.min(retry.maxBackoffMillis(), exp);
    long h = (last.fingerprint() + "#" + failures).hashCode() & 0x7fffffffL;
    long jittered = base / 2 + (base / 2 == 0 ? 0 : h % (base / 2 + 1));
    return Math.max(jittered, last.retryAfterMillis());
  }

  /** What templates see: the record's fields, {@code index}, and the answers of finished steps. */
  public static Map<String, Object> context(PipelinePlan plan, RecordInput input, RecordState state) {
    Map<String, Object> context = new HashMap<>(input.values());
    context.putIfAbsent(PipelinePlan.INDEX, input.index());
    for (PipelinePlan.Step s : plan.steps()) {
      CallSucceeded r = state.result(s.name());
      if (r != null) {
        context.put(s.name(), r.response());
      }
    }
    return context;
  }

  private static List<ChatMessage> render(PipelinePlan.Step step, Map<String, Object> context) {
    Templates t = Templates.get();
    List<ChatMessage> out = new ArrayList<>();
    if (step.spec().messages() != null) {
      for (MessageTemplate m : step.spec().messages()) {
        out.add(new ChatMessage(m.role(), t.render(m.content(), context)));
      }
      return out;
    }
    if (step.spec().system() != null) {
      out.add(ChatMessage.system(t.render(step.spec().system(), context)));
    }
    out.add(ChatMessage.user(t.render(step.spec().prompt(), context)));
    return out;
  }

  /** The whole conversation of a finished step: what it continued, what it added, and its answer. */
  public static List<ChatMessage> conversation(PipelinePlan plan, RecordState state, String step) {
    List<ChatMessage> out = new ArrayList<>();
    if (step == null) {
      return out;
    }
    CallSucceeded r = state.result(step);
    out.addAll(conversation(plan, state, plan.step(step).spec().continueFrom()));
    out.addAll(r.request());
    out.add(ChatMessage.assistant(r.response()));
    return out;
  }
}
