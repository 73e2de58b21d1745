package io.skein.coordinator.job;

import io.skein.protocol.CborSerializable;
import io.skein.protocol.JobProtocol.Dispatched;
import io.skein.protocol.JobProtocol.Event;
import io.skein.protocol.JobProtocol.JobEnded;
import io.skein.protocol.JobProtocol.JobStarted;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.protocol.JobProtocol.Progress;

/**
 * What a job's journal holds: its size and window, how far records may have been sent
 * ({@code upTo}), below which index all have ended ({@code low}), and how it ended. Which records
 * in between have ended is read from the results ledger on recovery, not journaled per record.
 */
public record CoordinatorState(long total, int window, long upTo, long low, JobState ended)
    implements CborSerializable {

  public static final CoordinatorState EMPTY = new CoordinatorState(-1, 0, 0, 0, null);

  public boolean started() {
    return total >= 0;
  }

  public boolean hasEnded() {
    return ended != null;
  }

  public CoordinatorState apply(Event event) {
    if (event instanceof JobStarted e) {
      return new CoordinatorState(e.total(), e.window(), 0, 0, null);
    }
    if (event instanceof Dispatched e) {
      return new CoordinatorState(total, window, Math.max(upTo, e.upTo()), low, ended);
    }
    if (event instanceof Progress e) {
      return new CoordinatorState(total, window, upTo, Math.max(low, e.low()), ended);
    }
    if (event instanceof JobEnded e) {
      return new CoordinatorState(total, window, upTo, low, e.state());
    }
    return this;
  }
}
