package io.skein.coordinator.job;

import io.skein.protocol.JobProtocol.JobStarted;
import io.skein.protocol.JobProtocol.Limits;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * When a job pauses by itself, decided from what its coordinator hears: its spend reached
 * {@code max_cost}, or more than {@code max_error_rate.rate} of the last {@code window} records
 * that ended failed. Pure: fed outcomes and costs, it answers the pause's reason or null. The
 * window of outcomes starts empty at every (re)start and resume, so a resumed job is judged on
 * the records that end after the resume.
 */
final class EarlyStops {

  private final Deque<String> last = new ArrayDeque<>();
  private final Map<String, Integer> failures = new HashMap<>();
  private int failed;

  /** A record ended: {@code errorType} null when it succeeded. */
  void ended(String errorType, Limits limits) {
    if (limits.errorWindow() <= 0) {
      return;
    }
    last.addLast(errorType == null ? "" : errorType);
    if (errorType != null) {
      failed++;
      failures.merge(errorType, 1, Integer::sum);
    }
    while (last.size() > limits.errorWindow()) {
      String gone = last.removeFirst();
      if (!gone.isEmpty()) {
        failed--;
        failures.merge(gone, -1, Integer::sum);
      }
    }
  }

  /** Forget the window (a resume, a restart). */
  void clear() {
    last.clear();
    failures.clear();
    failed = 0;
  }

  /**
   * Why the job should pause now, or null: the cost cap met, or too many failures in the full
   * window. {@code costNanos} is what this job's calls cost; {@code othersNanos}, for a stage of a
   * staged job, what its other stages' did (the cap is the whole job's); {@code jobId}, the job to
   * resume.
   */
  String reason(String jobId, Limits limits, long costNanos, long othersNanos, long total, long done) {
    if (limits.capsCost() && costNanos + othersNanos >= limits.maxCostNanos()) {
      return costReason(jobId, limits, costNanos, othersNanos, total, done);
    }
    if (limits.errorWindow() > 0 && last.size() >= limits.errorWindow() && failed > limits.errorRate() * limits.errorWindow()) {
      Map.Entry<String, Integer> common = failures.entrySet().stream().max(Comparator.comparingInt(Map.Entry::getValue)).orElseThrow();
      return String.format(Locale.ROOT, "max_error_rate: %d of the last %d records failed (more than %s); the most common error is %s"
          + " (%d of them). Fix the cause and resume the job", failed, limits.errorWindow(), percent(limits.errorRate()),
          common.getKey(), common.getValue());
    }
    return null;
  }

  private static String costReason(String jobId, Limits limits, long costNanos, long othersNanos, long total, long done) {
    String more = done == 0 || total == JobStarted.OPEN ? "" : String.format(Locale.ROOT,
        "; the %d records left%s would cost about %s more at this rate", Math.max(total - done, 0), othersNanos > 0 ? " of this stage" : "",
        dollars(Math.round((double) costNanos / done * Math.max(total - done, 0))));
    String others = othersNanos > 0 ? " (" + dollars(othersNanos) + " of it by the job's other stages)" : "";
    return String.format(Locale.ROOT, "max_cost: spent %s of %s%s%s. Resume with a higher max_cost to go on"
        + " (POST /jobs/%s/resume?max_cost=..., or skein resume %s --max-cost ...)", dollars(costNanos + othersNanos),
        dollars(limits.maxCostNanos()), others, more, jobId, jobId);
  }

  /** The whole job's cost if the records left cost what those done did: {@code cost} when none is done yet or it is open-ended. */
  static long projected(long costNanos, long total, long done) {
    if (done <= 0 || total == JobStarted.OPEN || total <= done) {
      return costNanos;
    }
    return Math.round((double) costNanos / done * total);
  }

  static String dollars(long nanos) {
    double d = nanos / 1e9;
    return d >= 100 ? String.format(Locale.ROOT, "$%,.2f", d) : d >= 0.01 ? String.format(Locale.ROOT, "$%.2f", d)
        : String.format(Locale.ROOT, "$%.6f", d);
  }

  private static String percent(double rate) {
    return String.format(Locale.ROOT, "%.0f%%", rate * 100);
  }
}
