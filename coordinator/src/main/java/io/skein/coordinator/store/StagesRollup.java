package io.skein.coordinator.store;

import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.protocol.JobProtocol.JobState;
import java.util.List;

/**
 * A staged job's row, as its stages' rows make it: records, rows, calls and tokens summed over the
 * stages; running while any stage runs, paused while one is paused, and once
 * every stage has ended, cancelled if one was, failed if one failed (the first, with its reason),
 * else succeeded.
 */
public record StagesRollup(JobState state, String reason, long total, Counts counts, long inFlight, String waiting, Long finishedAt) {

  public static StagesRollup of(List<JobInfo> stages) {
    Counts counts = Counts.ZERO;
    long total = 0;
    long inFlight = 0;
    String waiting = null;
    Long finished = null;
    boolean allEnded = true;
    JobInfo paused = null;
    JobInfo failed = null;
    boolean cancelled = false;
    for (JobInfo s : stages) {
      counts = counts.plus(s.counts());
      total += s.total();
      if (!s.state().isTerminal()) {
        allEnded = false;
        inFlight += s.inFlight();
        waiting = waiting == null ? s.waiting() : waiting;
      }
      paused = paused == null && s.state() == JobState.PAUSED ? s : paused;
      failed = failed == null && s.state() == JobState.FAILED ? s : failed;
      cancelled |= s.state() == JobState.CANCELLED;
      if (s.finishedAt() != null) {
        finished = finished == null ? s.finishedAt() : Math.max(finished, s.finishedAt());
      }
    }
    if (!allEnded) {
      return paused != null
          ? new StagesRollup(JobState.PAUSED, stageSays(paused), total, counts, inFlight, waiting, null)
          : new StagesRollup(JobState.RUNNING, null, total, counts, inFlight, waiting, null);
    }
    if (cancelled) {
      return new StagesRollup(JobState.CANCELLED, "cancelled by request", total, counts, 0, null, finished);
    }
    if (failed != null) {
      return new StagesRollup(JobState.FAILED, stageSays(failed), total, counts, 0, null, finished);
    }
    return new StagesRollup(JobState.SUCCEEDED, null, total, counts, 0, null, finished);
  }

  private static String stageSays(JobInfo stage) {
    return "stage `" + stage.stage().name() + "` " + stage.state().wireName() + (stage.reason() == null ? "" : ": " + stage.reason());
  }

  /** A stage's position in its spec (from its feed), for ordering. */
  static int position(JobInfo stage) {
    return stage.stage() == null ? 0 : FeedSpec.parse(stage.stage().feed()).position();
  }
}
