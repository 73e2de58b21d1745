package io.skein.coordinator.job;

import io.skein.protocol.CborSerializable;
import io.skein.protocol.JobProtocol.Dispatched;
import io.skein.protocol.JobProtocol.Event;
import io.skein.protocol.JobProtocol.FailedRetried;
import io.skein.protocol.JobProtocol.JobEnded;
import io.skein.protocol.JobProtocol.JobPaused;
import io.skein.protocol.JobProtocol.JobResumed;
import io.skein.protocol.JobProtocol.JobStarted;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.protocol.JobProtocol.Limits;
import io.skein.protocol.JobProtocol.Progress;

/**
 * What a job's journal holds: its size and window, how far records may have been sent
 * ({@code upTo}), below which index all have ended ({@code low}), how it ended, and whether it is
 * paused (and why), when it was last resumed, the rows it runs for ({@code target}, 0 for none), and
 * when it pauses by itself ({@code limits}: max_cost, raised by a resume, and max_error_rate), and
 * when it last retried its failed records ({@code retriedAt}, 0: never). Which records in between
 * have ended is read from the results ledger on recovery, not journaled per record.
 */
public record CoordinatorState(long total, int window, long upTo, long low, JobState ended, String pauseReason, long resumedAt,
    long target, Limits limits, long retriedAt) implements CborSerializable {

  public static final CoordinatorState EMPTY = new CoordinatorState(-1, 0, 0, 0, null, null, 0, 0, null, 0);

  public CoordinatorState {
    // Snapshots from before limits have none.
    limits = limits == null ? Limits.NONE : limits;
  }

  public CoordinatorState(long total, int window, long upTo, long low, JobState ended, String pauseReason, long resumedAt, long target,
      Limits limits) {
    this(total, window, upTo, low, ended, pauseReason, resumedAt, target, limits, 0);
  }

  public CoordinatorState(long total, int window, long upTo, long low, JobState ended, String pauseReason, long resumedAt, long target) {
    this(total, window, upTo, low, ended, pauseReason, resumedAt, target, Limits.NONE);
  }

  /** Running again for the records that had failed before {@link #retriedAt}. */
  public boolean retrying() {
    return retriedAt > 0 && ended == null;
  }

  public boolean started() {
    return total >= 0;
  }

  public boolean hasEnded() {
    return ended != null;
  }

  /** Paused and not ended. (Not {@code isPaused}: Jackson would take that for a property.) */
  public boolean pausedNow() {
    return pauseReason != null && ended == null;
  }

  public CoordinatorState apply(Event event) {
    if (event instanceof JobStarted e) {
      return new CoordinatorState(e.total(), e.window(), 0, 0, null, null, 0, e.target(), e.limits(), 0);
    }
    if (event instanceof Dispatched e) {
      return new CoordinatorState(total, window, Math.max(upTo, e.upTo()), low, ended, pauseReason, resumedAt, target, limits, retriedAt);
    }
    if (event instanceof Progress e) {
      return new CoordinatorState(total, window, upTo, Math.max(low, e.low()), ended, pauseReason, resumedAt, target, limits, retriedAt);
    }
    if (event instanceof JobEnded e) {
      return new CoordinatorState(total, window, upTo, low, e.state(), pauseReason, resumedAt, target, limits, retriedAt);
    }
    if (event instanceof JobPaused e) {
      return new CoordinatorState(total, window, upTo, low, ended, e.reason(), resumedAt, target, limits, retriedAt);
    }
    if (event instanceof JobResumed e) {
      return new CoordinatorState(total, window, upTo, low, ended, null, e.atMillis(), target,
          e.maxCostNanos() == null ? limits : limits.withMaxCost(e.maxCostNanos()), retriedAt);
    }
    if (event instanceof FailedRetried e) {
      // Refusals before it are tried again, as after a resume.
      return new CoordinatorState(total, window, upTo, low, null, null, e.atMillis(), target, limits, e.atMillis());
    }
    return this;
  }
}
