package io.skein.worker.entity;

/**
 * A record's entry in the results ledger: its output or error row (JSON), the extra detail that
 * annotated exports add (input, every call, timings), its cost in calls, tokens and billionths of a dollar, and its rows
 * of the spec's extra datasets ({@code {name: row}} as JSON; null when the spec has none).
 * {@code retriedAt}: when its job last retried the record after it had failed (0: never); the row
 * then replaces the record's error row from before that time.
 */
public record ResultRow(
    String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens, String datasets, long costNanos,
    long retriedAt) {

  public ResultRow(String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens, String datasets,
      long costNanos) {
    this(jobId, index, succeeded, row, detail, calls, tokens, datasets, costNanos, 0);
  }

  public ResultRow(String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens, String datasets) {
    this(jobId, index, succeeded, row, detail, calls, tokens, datasets, 0);
  }

  public ResultRow(String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens) {
    this(jobId, index, succeeded, row, detail, calls, tokens, null);
  }

  /** This row with what its calls cost (billionths of a dollar). */
  public ResultRow withCost(long nanos) {
    return new ResultRow(jobId, index, succeeded, row, detail, calls, tokens, datasets, nanos, retriedAt);
  }

  /** This row, as the end of a record its job retried at {@code at} (0: never): it replaces the error row from before. */
  public ResultRow retriedAt(long at) {
    return new ResultRow(jobId, index, succeeded, row, detail, calls, tokens, datasets, costNanos, at);
  }

  public boolean retried() {
    return retriedAt > 0;
  }
}
