package io.skein.protocol;

import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * The JobCoordinator's protocol. A job's spec and input are in the database before the coordinator
 * hears of it, so these messages carry only the job id (the entity id) and small values.
 */
public final class JobProtocol {

  private JobProtocol() {}

  public interface Command extends CborSerializable {}

  /** Idempotent: start the job if new, resume it if it was running, answer Done either way. */
  public record Start(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Stop dispatching, mark the job cancelled, and cancel the records in flight: no call is sent after it. */
  public record Cancel(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Stop sending new records (those running finish); idempotent. Answers Done once the pause is journaled. */
  public record Pause(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Go on with a paused job; records that were blocked try their refused call again. Idempotent. */
  public record Resume(ActorRef<StatusReply<Done>> replyTo, Long maxCostNanos) implements Command {
    public Resume(ActorRef<StatusReply<Done>> replyTo) {
      this(replyTo, null);
    }
  }

  /**
   * Run the failed records of an ended job again, each from its last answered call: its error rows
   * go back to running and are replaced by the rows the records end with. {@code atMillis}: when,
   * later than every row the job has (the error rows written before it are the ones retried).
   * Answers Done once the retry is journaled and the job's row says running again.
   */
  public record RetryFailed(ActorRef<StatusReply<Done>> replyTo, long atMillis) implements Command {}

  public interface Event extends CborSerializable {}

  /** {@code total} is {@link #OPEN} for a stage whose records are made while it runs (see the feed in the job's row). */
  /** {@code target}: the rows a job with {@code target:} runs records for (0: none; journals before it have none). */
  /** {@code limits}: when the job pauses by itself (null: never; journals before them have none). */
  public record JobStarted(long total, int window, long atMillis, long target, Limits limits) implements Event {
    /** The total of a stage fed while it runs: its feed says how many records there are so far, and when no more will come. */
    public static final long OPEN = Long.MAX_VALUE;

    public JobStarted(long total, int window, long atMillis, long target) {
      this(total, window, atMillis, target, null);
    }

    public JobStarted(long total, int window, long atMillis) {
      this(total, window, atMillis, 0);
    }
  }

  /**
   * A spec's {@code max_cost} (billionths of a dollar; 0: no cap) and {@code max_error_rate}: pause
   * when more than {@code errorRate} of the last {@code errorWindow} ended records failed (window 0: no such rule).
   */
  public record Limits(long maxCostNanos, double errorRate, int errorWindow) implements CborSerializable {
    public static final Limits NONE = new Limits(0, 0, 0);

    public boolean capsCost() {
      return maxCostNanos > 0;
    }

    public Limits withMaxCost(long nanos) {
      return new Limits(nanos, errorRate, errorWindow);
    }
  }

  /** Records with index below {@code upTo} may have been sent; persisted before they are. */
  public record Dispatched(long upTo) implements Event {}

  /** Every record below {@code low} has ended; persisted in batches, not once per record. */
  public record Progress(long low) implements Event {}

  public record JobEnded(JobState state, String reason, long atMillis) implements Event {}

  /** No new records are sent until a {@link JobResumed}; {@code reason} says why, for the user. */
  public record JobPaused(String reason, long atMillis) implements Event {}

  /** {@code maxCostNanos}: the job's new max_cost, when the resume raised it (null: unchanged). */
  public record JobResumed(long atMillis, Long maxCostNanos) implements Event {
    public JobResumed(long atMillis) {
      this(atMillis, null);
    }
  }

  /**
   * The job, which had ended, runs again for the records whose error rows were written before
   * {@code atMillis}: each is sent {@code Ensure} with this time and goes on from its last answered
   * call. Which records those are is read from the ledger, not journaled.
   */
  public record FailedRetried(long atMillis) implements Event {}

  /** A job's lifecycle as users see it. */
  public enum JobState {
    RUNNING,
    /** Waiting for a resume: by request, or because its model refused calls in a way no retry fixes. */
    PAUSED,
    SUCCEEDED,
    FAILED,
    CANCELLED;

    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    public boolean isTerminal() {
      return this != RUNNING && this != PAUSED;
    }
  }
}
