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
  public record Resume(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public interface Event extends CborSerializable {}

  /** {@code total} is {@link #OPEN} for a stage whose records are made while it runs (see the feed in the job's row). */
  /** {@code target}: the rows a job with {@code target:} runs records for (0: none; journals before it have none). */
  public record JobStarted(long total, int window, long atMillis, long target) implements Event {
    /** The total of a stage fed while it runs: its feed says how many records there are so far, and when no more will come. */
    public static final long OPEN = Long.MAX_VALUE;

    public JobStarted(long total, int window, long atMillis) {
      this(total, window, atMillis, 0);
    }
  }

  /** Records with index below {@code upTo} may have been sent; persisted before they are. */
  public record Dispatched(long upTo) implements Event {}

  /** Every record below {@code low} has ended; persisted in batches, not once per record. */
  public record Progress(long low) implements Event {}

  public record JobEnded(JobState state, String reason, long atMillis) implements Event {}

  /** No new records are sent until a {@link JobResumed}; {@code reason} says why, for the user. */
  public record JobPaused(String reason, long atMillis) implements Event {}

  public record JobResumed(long atMillis) implements Event {}

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
