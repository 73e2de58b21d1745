package io.skein.protocol.spec;

/**
 * When a job pauses by itself, before it spends what it should not: {@code max_cost} (US dollars,
 * at the node's price table; null: no cap) and {@code max_error_rate} — more than {@code rate} of
 * the last {@code window} records that ended failed (null: no such rule). A pause, not a failure:
 * nothing done is lost, and the job goes on when resumed.
 */
public record EarlyStop(Double maxCost, ErrorRate maxErrorRate) {

  public static final EarlyStop NONE = new EarlyStop(null, null);

  /** More than {@code rate} (0 to 1) of the last {@code window} ended records failed. */
  public record ErrorRate(double rate, int window) {}

  /** The cap in billionths of a dollar, as costs are counted; {@link Long#MAX_VALUE} for none. */
  public long maxCostNanos() {
    return maxCost == null ? Long.MAX_VALUE : Math.round(maxCost * 1e9);
  }
}
