package io.skein.worker.entity;

/**
 * A record's entry in the results ledger: its output or error row (JSON), the extra detail that
 * annotated exports add (input, every call, timings), its cost in calls, tokens and billionths of a dollar, and its rows
 * of the spec's extra datasets ({@code {name: row}} as JSON; null when the spec has none).
 * {@code retried}: the record was retried after it had failed, so this row replaces its error row.
 */
public record ResultRow(
    String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens, String datasets, long costNanos,
    boolean retried) {

  public ResultRow(String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens, String datasets,
      long costNanos) {
    this(jobId, index, succeeded, row, detail, calls, tokens, datasets, costNanos, false);
  }

  public ResultRow(String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens, String datasets) {
    this(jobId, index, succeeded, row, detail, calls, tokens, datasets, 0);
  }

  public ResultRow(String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens) {
    this(jobId, index, succeeded, row, detail, calls, tokens, null);
  }

  /** This row with what its calls cost (billionths of a dollar). */
  public ResultRow withCost(long nanos) {
    return new ResultRow(jobId, index, succeeded, row, detail, calls, tokens, datasets, nanos, retried);
  }

  /** This row, as the end of a record that was retried: it replaces the record's error row. */
  public ResultRow retried(boolean retried) {
    return new ResultRow(jobId, index, succeeded, row, detail, calls, tokens, datasets, costNanos, retried);
  }
}
