package io.skein.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The RecordWorker's protocol: what a job coordinator may ask of a record, what the record answers,
 * and the events a record persists. A record's entity id is {@code <jobId>/<index>}; messages carry
 * ids, never payloads, so a record can start from any message on any node.
 */
public final class RecordProtocol {

  private RecordProtocol() {}

  /** Entity id of a record: {@code <jobId>/<index>}. */
  public static String recordKey(String jobId, long index) {
    return jobId + "/" + index;
  }

  public interface Command extends CborSerializable {}

  /**
   * Idempotent: start the record if new, carry on if running, and report the outcome (again) if
   * it has ended. Reports go to {@code replyTo} of the latest Ensure. {@code resumedAt} is when the
   * job was last resumed after a pause (0: never): a call that failed in a way that blocks the job
   * (see {@link RecordBlocked}) before then is tried again; one that failed after is reported again.
   * {@code retryFailedAt} is when the job last retried its failed records (0: never): a record that
   * failed and has not been retried since then goes on from its last answered call ({@link RecordRetried}).
   */
  public record Ensure(ActorRef<RecordReport> replyTo, long resumedAt, long retryFailedAt) implements Command {

    public Ensure(ActorRef<RecordReport> replyTo, long resumedAt) {
      this(replyTo, resumedAt, 0);
    }

    public Ensure(ActorRef<RecordReport> replyTo) {
      this(replyTo, 0);
    }
  }

  /** Stop taking new calls, wait a bounded time for calls in flight, then stop (handoff, passivation). */
  public enum Stop implements Command {
    INSTANCE
  }

  /**
   * Its job was cancelled: a record that has not ended ends now, {@code cancelled}, sends no other
   * call (calls waiting at a gateway are withdrawn; answers still on their way are dropped) and
   * writes no row, so a cancelled job's rows are those of records that ended before the cancel.
   */
  public record Cancel(String reason) implements Command {}

  /** Error type of a record ended by its job's cancel. */
  public static final String CANCELLED = "cancelled";

  /** What a record tells its job's coordinator. */
  public sealed interface RecordReport extends CborSerializable permits RecordOutcome, RecordBlocked, RecordProgress {
    String jobId();

    long index();
  }

  /**
   * Sent at least once when a record has ended and its row is in the ledger: its calls, tokens and
   * cost (billionths of a dollar, at the node's prices), and for a failed record its error type.
   */
  public record RecordOutcome(String jobId, long index, boolean succeeded, int calls, long tokens, long costNanos, String errorType)
      implements RecordReport {
    public RecordOutcome(String jobId, long index, boolean succeeded, int calls, long tokens) {
      this(jobId, index, succeeded, calls, tokens, 0, null);
    }
  }

  /**
   * Sent after each journaled call of a record that has not ended: the calls and tokens it has
   * journaled so far (totals, not increments, so a report lost with a node, or sent twice, corrects
   * itself), and {@code waitingFor}, when its last call could not be made and waits to be tried
   * again without spending an attempt (the provider unavailable or rate limiting), what it waits
   * for; null when it is not waiting; and {@code costNanos}, what its calls cost so far (billionths of
   * a dollar). Job counts are live with these; the ledger settles them.
   */
  public record RecordProgress(String jobId, long index, int calls, long tokens, String waitingFor, long costNanos) implements RecordReport {
    public RecordProgress(String jobId, long index, int calls, long tokens, String waitingFor) {
      this(jobId, index, calls, tokens, waitingFor, 0);
    }
  }

  /**
   * The record cannot go on until the job is resumed: a call to {@code model} was refused in a way
   * that no retry fixes and no other record would escape (a wrong API key, no access, no such
   * model) at {@code atMillis}. The record has not failed and keeps every answer it has; it waits,
   * stopped, for an Ensure whose {@code resumedAt} is later than the refusal.
   */
  public record RecordBlocked(String jobId, long index, String model, String step, String errorType, String message, long atMillis)
      implements RecordReport {}

  public interface Event extends CborSerializable {}

  public record RecordStarted(long atMillis) implements Event {}

  /**
   * A finished call. {@code request} holds only the messages this call added to its conversation
   * (a continued conversation's earlier turns are in earlier events), so journals grow linearly.
   * {@code node} is the cluster node that made the call. {@code cached}: the answer came from the
   * response cache (an earlier identical request), so the call cost nothing. {@code result} is what
   * the step's kind read from the answer when it arrived (a parsed value, or the errors that make
   * it ask again), so a replay, or a newer version of Skein, decides exactly as the record did;
   * journals written before step kinds have none, and their answer is its text. {@code endpoint}:
   * the server that answered, of those behind the model's name (null: the cache did, or a journal
   * written before it was recorded).
   */
  public record CallSucceeded(
      CallId call,
      int attempt,
      String fingerprint,
      String node,
      String model,
      List<ChatMessage> request,
      String response,
      String finishReason,
      Usage usage,
      long latencyMillis,
      long atMillis,
      boolean cached,
      JsonNode result,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
      List<ToolCall> toolCalls,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
      String endpoint)
      implements Event {

    public CallSucceeded(CallId call, int attempt, String fingerprint, String node, String model, List<ChatMessage> request,
        String response, String finishReason, Usage usage, long latencyMillis, long atMillis, boolean cached, JsonNode result,
        List<ToolCall> toolCalls) {
      this(call, attempt, fingerprint, node, model, request, response, finishReason, usage, latencyMillis, atMillis, cached, result,
          toolCalls, null);
    }

    public CallSucceeded {
      // Jackson reads a missing or null JsonNode as NullNode; "no result" is null, whichever way it came.
      result = result == null || result.isNull() ? null : result;
      toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public CallSucceeded(CallId call, int attempt, String fingerprint, String node, String model, List<ChatMessage> request,
        String response, String finishReason, Usage usage, long latencyMillis, long atMillis, boolean cached, JsonNode result) {
      this(call, attempt, fingerprint, node, model, request, response, finishReason, usage, latencyMillis, atMillis, cached, result,
          List.of());
    }

    public CallSucceeded(CallId call, int attempt, String fingerprint, String node, String model, List<ChatMessage> request,
        String response, String finishReason, Usage usage, long latencyMillis, long atMillis, boolean cached) {
      this(call, attempt, fingerprint, node, model, request, response, finishReason, usage, latencyMillis, atMillis, cached, null);
    }
  }

  /**
   * Values computed without a model (samplers, expressions, local validators) and steps skipped by
   * their {@code when}, persisted once, before any call that reads them is sent, so a replay or an
   * upgrade (a newer Datafaker, say) never changes a value that later calls used.
   */
  public record ValuesComputed(Map<String, JsonNode> values, List<String> skipped, long atMillis) implements Event {}

  /**
   * One failed attempt of a call; the worker decides from these whether and when to try again.
   * {@code endpoint}: the server that answered so, or null (none was reached, or an older journal).
   */
  public record CallFailed(
      CallId call,
      int attempt,
      String fingerprint,
      String node,
      String errorType,
      boolean retryable,
      int status,
      String message,
      long retryAfterMillis,
      long latencyMillis,
      long atMillis,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
      String endpoint)
      implements Event {

    public CallFailed(CallId call, int attempt, String fingerprint, String node, String errorType, boolean retryable, int status,
        String message, long retryAfterMillis, long latencyMillis, long atMillis) {
      this(call, attempt, fingerprint, node, errorType, retryable, status, message, retryAfterMillis, latencyMillis, atMillis, null);
    }
  }

  /**
   * A tool call a model asked for ({@code toolCalls[index]} of the answer to {@code call}) and what
   * the tool answered: persisted before the conversation goes on, so a crash in a tool loop repeats
   * no finished tool call. {@code error}: the tool reported an error, or could not be reached in
   * time; the model is told so, as a tool's answer, and decides what to do.
   */
  public record ToolCalled(CallId call, int index, String toolCallId, String tool, String server, String result, boolean error,
      String node, long latencyMillis, long atMillis) implements Event {}

  public record RecordSucceeded(long atMillis) implements Event {}

  public record RecordFailed(String errorType, String message, String step, long atMillis)
      implements Event {}

  /**
   * A failed record runs again because its job retried its failed records at {@code atMillis}: the
   * failure is undone, and so is the count of each call's failed attempts (they stay in the journal
   * and in the record's calls), so every call not answered has its whole retry budget again; answered
   * calls are kept and not sent again.
   */
  public record RecordRetried(long atMillis) implements Event {}
}
