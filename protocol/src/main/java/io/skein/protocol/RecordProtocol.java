package io.skein.protocol;

import java.util.List;
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
   * it has ended. The outcome goes to {@code replyTo} of the latest Ensure.
   */
  public record Ensure(ActorRef<RecordOutcome> replyTo) implements Command {}

  /** Stop taking new calls, wait a bounded time for calls in flight, then stop (handoff, passivation). */
  public enum Stop implements Command {
    INSTANCE
  }

  /** Sent at least once when a record has ended and its row is in the ledger. */
  public record RecordOutcome(String jobId, long index, boolean succeeded, int calls, long tokens)
      implements CborSerializable {}

  public interface Event extends CborSerializable {}

  public record RecordStarted(long atMillis) implements Event {}

  /**
   * A finished call. {@code request} holds only the messages this call added to its conversation
   * (a continued conversation's earlier turns are in earlier events), so journals grow linearly.
   * {@code node} is the cluster node that made the call.
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
      long atMillis)
      implements Event {}

  /** One failed attempt of a call; the worker decides from these whether and when to try again. */
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
      long atMillis)
      implements Event {}

  public record RecordSucceeded(long atMillis) implements Event {}

  public record RecordFailed(String errorType, String message, String step, long atMillis)
      implements Event {}
}
