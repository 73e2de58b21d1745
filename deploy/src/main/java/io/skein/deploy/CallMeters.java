package io.skein.deploy;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.skein.worker.entity.CallTimer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A node's calls as its records time them, on {@code /metrics}: {@code skein_journal_write_seconds},
 * from an answer's arrival to its event in the journal (what a SIGKILL in between would pay for
 * again), and {@code skein_call_overhead_seconds}, the time a call spent in Skein itself (planned
 * to persisted, minus the provider's share). Passes both on to {@code next} (a benchmark's timer).
 */
final class CallMeters implements CallTimer {

  private final Timer journal;
  private final Timer overhead;
  private final CallTimer next;

  CallMeters(MeterRegistry registry, CallTimer next) {
    this.journal = timer(registry, "skein.journal.write", "From an answer's arrival to its event in the journal");
    this.overhead = timer(registry, "skein.call.overhead", "A call's time in Skein itself: planned to persisted, minus the provider's");
    this.next = next;
  }

  private static Timer timer(MeterRegistry registry, String name, String description) {
    return Timer.builder(name).description(description).publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
  }

  @Override
  public void record(String step, long overheadNanos) {
    overhead.record(overheadNanos, TimeUnit.NANOSECONDS);
    next.record(step, overheadNanos);
  }

  @Override
  public void journaled(String step, long answerToJournalNanos) {
    journal.record(answerToJournalNanos, TimeUnit.NANOSECONDS);
    next.journaled(step, answerToJournalNanos);
  }
}
