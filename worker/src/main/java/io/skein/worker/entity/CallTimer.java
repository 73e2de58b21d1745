package io.skein.worker.entity;

/**
 * Where a record reports the time a finished call spent in Skein itself: from the moment the call
 * was planned to the moment its answer was persisted, minus the time the provider took to answer
 * (gateway queueing, rendering, HTTP client, journal write). Benchmarks and metrics listen here.
 */
public interface CallTimer {

  CallTimer NONE = (step, nanos) -> {};

  void record(String step, long overheadNanos);

  /**
   * The time from an answer's arrival (its response read by the HTTP client) to its event being in
   * the journal: what a SIGKILL in between would make Skein pay for again.
   */
  default void journaled(String step, long answerToJournalNanos) {}
}
