package io.skein.worker.gateway;

/**
 * One server behind a model name, as this node's gateway sends to it: its share of the server's
 * limits, the adaptive concurrency under that share, the budgets the server reported in its
 * rate-limit headers, a circuit breaker, and how fast it answers. Pure and single-threaded (the
 * gateway owns it), so every decision is tested without actors.
 *
 * <p>Concurrency starts at {@link #initialWindow} and grows by one per answer — doubling each round —
 * until the first 429 or the ceiling; from then on (AIMD) a 429 for a call sent since the last cut
 * cuts it by 30%, and each answer grows it by 1/limit, so a full round of answers adds one call.
 *
 * <p>Rate-limit headers ({@link RateLimits}) describe the server's own buckets: after each answer
 * the lane believes what is left there now — what the answer said was left, less what this node
 * sent after that call, plus what refilled since — and sends no call the bucket cannot take, so a
 * provider's per-minute limits are met by waiting instead of being found by 429s. A cluster's nodes
 * each take their share of what the headers say.
 */
final class Lane {

  /** The fewest calls sent at once before any answer has told the lane what the server takes. */
  static final int INITIAL_WINDOW = 32;

  /**
   * Calls sent at once before the first answer: a quarter of the ceiling (at least {@link
   * #INITIAL_WINDOW}), so slow start reaches any ceiling within two rounds, and a server that cannot
   * take the ceiling is probed with a quarter of it, not all of it at once.
   */
  static int initialWindow(int ceiling) {
    return Math.min(ceiling, Math.max(INITIAL_WINDOW, ceiling / 4));
  }

  /** What a call's sending counted: the lane's totals right after it, when, and its token estimate. */
  record Sent(long requestsSent, long tokensSent, long estimate, long atMillis, long atNanos) {}

  /** What an answer changed that the gateway says or acts on. */
  enum Change { NONE, CUT, OPENED }

  private final Endpoint endpoint;
  /** The model's only server: its breaker closes fully after the open period, as there is no other to probe for. */
  private final boolean alone;
  private final Budget requests;
  private final Budget tokens;
  private final Budget reportedRequests;
  private final Budget reportedTokens;
  private final int connections;
  private int members = 1;
  private int ceiling;
  private double window;
  private boolean slowStart = true;
  private long lastCutNanos;
  private int inFlight;
  private long requestsSent;
  private long tokensSent;
  private int consecutiveFailures;
  private long openUntil;
  /** Moving average of answer times in ms; 0 until the first answer. */
  private double latencyMillis;

  Lane(Endpoint endpoint, boolean alone, int members, int connections, long now) {
    this.endpoint = endpoint;
    this.alone = alone;
    this.connections = Math.max(1, connections);
    this.requests = new Budget(0, now);
    this.tokens = new Budget(0, now);
    this.reportedRequests = new Budget(0, now);
    this.reportedTokens = new Budget(0, now);
    share(members, now);
  }

  Endpoint endpoint() {
    return endpoint;
  }

  /**
   * This node's share of the server's limits when the cluster has {@code members} up members, and
   * never more calls at once than this node has connections to it.
   */
  void share(int members, long now) {
    int m = Math.max(1, members);
    this.members = m;
    Provider p = endpoint.target();
    int previous = ceiling;
    ceiling = Math.max(1, Math.min(connections, (int) Math.ceil(p.maxConcurrency() / (double) m)));
    window = previous == 0 ? initialWindow(ceiling) : window >= previous ? ceiling : Math.min(window, ceiling);
    requests.resize(p.requestsPerMinute() / (double) m, now);
    tokens.resize(p.tokensPerMinute() / (double) m, now);
  }

  int ceiling() {
    return ceiling;
  }

  /** Calls this lane may have in flight now. */
  int limit() {
    return Math.max(1, (int) window);
  }

  int inFlight() {
    return inFlight;
  }

  boolean open(long now) {
    return now < openUntil;
  }

  long openFor(long now) {
    return Math.max(0, openUntil - now);
  }

  /**
   * 0 when a call of {@code estimate} tokens may go now; else the milliseconds until it may, or
   * {@link Long#MAX_VALUE} when only an answer can make room.
   */
  long readyIn(long estimate, long now) {
    if (now < openUntil) {
      return openUntil - now;
    }
    if (inFlight >= limit()) {
      return Long.MAX_VALUE;
    }
    return Math.max(Math.max(requests.millisUntil(1, now), tokens.millisUntil(estimate, now)),
        Math.max(reportedRequests.millisUntil(1, now), reportedTokens.millisUntil(estimate, now)));
  }

  /** A call leaves: it takes a slot and its share of every budget. */
  Sent send(long estimate, long now, long nanos) {
    inFlight++;
    requests.tryTake(1, now);
    tokens.tryTake(estimate, now);
    reportedRequests.tryTake(1, now);
    reportedTokens.tryTake(estimate, now);
    requestsSent++;
    tokensSent += estimate;
    return new Sent(requestsSent, tokensSent, estimate, now, nanos);
  }

  /**
   * A call sent as {@code sent} came back with {@code outcome} and the server's {@code limits}.
   * {@code failures} consecutive server-side failures open the breaker for {@code openForMillis}.
   * A server among others is then half-open: its next call is a probe, and a failure opens it again.
   */
  Change answered(ModelOutcome outcome, RateLimits limits, Sent sent, long now, long nanos, int failures, long openForMillis) {
    inFlight--;
    observe(limits, sent, now);
    if (outcome instanceof ModelOutcome.Failed f && f.errorType().equals(ModelOutcome.Errors.RATE_LIMITED)) {
      return cut(sent.atNanos(), nanos) ? Change.CUT : Change.NONE;
    }
    if (outcome instanceof ModelOutcome.Failed f && serverSide(f)) {
      latency(f.latencyMillis());
      if (++consecutiveFailures >= failures) {
        openUntil = now + openForMillis;
        consecutiveFailures = alone ? 0 : failures - 1;
        return Change.OPENED;
      }
    } else if (outcome instanceof ModelOutcome.Ok ok) {
      latency(ok.latencyMillis());
      consecutiveFailures = 0;
      window = Math.min(ceiling, window + (slowStart ? 1.0 : 1.0 / Math.max(1.0, window)));
      tokens.adjust(sent.estimate() - ok.usage().total(), now);
    }
    return Change.NONE;
  }

  /**
   * The weight this lane gets now: its configured weight, halved for each failure in a row (down to
   * a sixteenth, so a failing server is still probed), and scaled by how much slower than
   * {@code fastestMillis} it answers.
   */
  double effectiveWeight(double fastestMillis) {
    double speed = latencyMillis <= 0 || fastestMillis <= 0 ? 1 : Math.min(1, fastestMillis / latencyMillis);
    return endpoint.weight() * speed / (1L << Math.min(consecutiveFailures, 4));
  }

  /** The moving average of its answer times (0 before any). */
  double latencyMillis() {
    return latencyMillis;
  }

  private void latency(long millis) {
    double m = Math.max(1, millis);
    latencyMillis = latencyMillis <= 0 ? m : 0.8 * latencyMillis + 0.2 * m;
  }

  /** What the headers say is left, less what this node sent after the call they answer, refilled since it was sent. */
  private void observe(RateLimits limits, Sent sent, long now) {
    if (limits.saysRequests()) {
      reported(reportedRequests, limits.limitRequests(), limits.remainingRequests(), limits.resetRequestsMillis(),
          requestsSent - sent.requestsSent(), sent.atMillis(), now);
    }
    if (limits.saysTokens()) {
      reported(reportedTokens, limits.limitTokens(), limits.remainingTokens(), limits.resetTokensMillis(),
          tokensSent - sent.tokensSent(), sent.atMillis(), now);
    }
  }

  private void reported(Budget budget, long limit, long remaining, long resetMillis, long sentSince, long sentAt, long now) {
    // The reset is when the bucket is full again: it tells the refill rate, whatever the limit's period.
    double perMilli = resetMillis > 0 && remaining < limit ? (limit - remaining) / (double) resetMillis : limit / 60_000.0;
    double share = perMilli / members;
    double left = remaining / (double) members - sentSince + share * Math.max(0, now - sentAt);
    budget.observe(left, share, limit / (double) members, now);
  }

  /** A 429: cut the window, once per round (429s for calls sent before the last cut say nothing new). */
  private boolean cut(long sentNanos, long nanos) {
    if (sentNanos < lastCutNanos) {
      return false;
    }
    slowStart = false;
    window = Math.max(1, window * 0.7);
    lastCutNanos = nanos;
    return true;
  }

  private static boolean serverSide(ModelOutcome.Failed f) {
    return f.errorType().equals(ModelOutcome.Errors.SERVER_ERROR)
        || f.errorType().equals(ModelOutcome.Errors.TIMEOUT)
        || f.errorType().equals(ModelOutcome.Errors.CONNECTION);
  }
}
