package io.skein.worker.entity;

/**
 * Where a record reports the time a finished call spent in Skein itself: from the moment the call
 * was planned to the moment its answer was persisted, minus the time the provider took to answer
 * (gateway queueing, rendering, HTTP client, journal write). Benchmarks and metrics listen here.
 */
public interface CallTimer {

  CallTimer NONE = (step, nanos) -> {};

  void record(String step, long overheadNanos);
}
