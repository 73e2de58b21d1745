package io.skein.deploy;

import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobStore;
import io.skein.protocol.JobProtocol.JobState;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Waits for a job to end or pause, reading its row in the database (as any client would), and on a
 * terminal draws one progress line: records done and failed, calls, tokens, rate and ETA.
 */
final class Progress {

  /** Often enough that a short run ends when its job does, not up to a poll later; a row read is cheap. */
  private static final long POLL_MILLIS = 100;

  private Progress() {}

  static JobInfo await(JobStore store, String jobId, boolean draw, java.util.function.Supplier<String> stopped) throws Exception {
    PrintStream out = System.err;
    long start = System.nanoTime();
    long startDone = -1;
    while (true) {
      String why = stopped.get();
      if (why != null) {
        if (draw) {
          out.println();
        }
        throw new IllegalStateException(why);
      }
      JobInfo job = store.job(jobId).toCompletableFuture().get(30, TimeUnit.SECONDS).orElseThrow();
      if (startDone < 0) {
        startDone = job.counts().done();
      }
      if (draw) {
        out.print("\r" + line(job, startDone, (System.nanoTime() - start) / 1e9));
        out.flush();
      }
      if (job.state().isTerminal() || job.state() == JobState.PAUSED) {
        if (draw) {
          out.println();
        }
        return job;
      }
      Thread.sleep(POLL_MILLIS);
    }
  }

  /** The bar: records done of the total, or, for a job with a target, rows passed of the target. */
  static String line(JobInfo job, long startDone, double seconds) {
    return line(job.total(), job.target(), job.counts(), job.state().isTerminal(), startDone, seconds);
  }

  /** The same from a job's numbers ({@code target} 0: none), as a remote status gives them. */
  static String line(long total, long target, JobInfo.Counts counts, boolean ended, long startDone, double seconds) {
    long done = counts.done();
    long goal = target > 0 ? target : total;
    long reached = target > 0 ? Math.min(counts.succeeded(), target) : done;
    double fraction = goal == 0 ? 1 : (double) reached / goal;
    int width = 24;
    int filled = (int) Math.round(fraction * width);
    double rate = seconds > 0 ? (done - startDone) / seconds : 0;
    double reachRate = target > 0 && done > 0 ? rate * counts.succeeded() / done : rate;
    String eta = reachRate > 0 && !ended ? duration((goal - reached) / reachRate) : "-";
    String what = target > 0 ? String.format(Locale.ROOT, "%d/%d rows passed (%d failed, of at most %d records)", reached, goal,
        counts.failed(), total) : String.format(Locale.ROOT, "%d/%d records (%d failed)", done, goal, counts.failed());
    return String.format(Locale.ROOT, "[%s%s] %3.0f%% %s | %s calls | %s tokens | %.1f rec/s | ETA %s   ",
        "#".repeat(filled), ".".repeat(width - filled), fraction * 100, what,
        compact(counts.calls()), compact(counts.tokens()), rate, eta);
  }

  private static String compact(long n) {
    if (n >= 1_000_000) {
      return String.format(Locale.ROOT, "%.1fM", n / 1e6);
    }
    if (n >= 10_000) {
      return String.format(Locale.ROOT, "%.1fk", n / 1e3);
    }
    return Long.toString(n);
  }

  private static String duration(double seconds) {
    long s = (long) seconds;
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
