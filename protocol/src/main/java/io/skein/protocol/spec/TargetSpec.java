package io.skein.protocol.spec;

/**
 * {@code target: N}: run records until N have passed (ended as output rows: every
 * {@code on_fail: error} check passed), starting another for each that fails, never more than
 * {@code max_records} in all. The output is the N passed rows of lowest index; rows that passed
 * past them (records still in flight when the N-th passed) are the job's {@code extras}.
 */
public record TargetSpec(long rows, long maxRecords) {

  /** max_records when the spec gives none: room for two failures a row. */
  public static final int DEFAULT_FACTOR = 3;
}
