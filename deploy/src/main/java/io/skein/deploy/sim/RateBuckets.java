package io.skein.deploy.sim;

import java.util.function.LongSupplier;

/**
 * Requests- and tokens-per-minute limits as OpenAI enforces them, so clients meet in development
 * the 429s and {@code x-ratelimit-*} headers they will meet in production. Each limit is a token
 * bucket whose capacity is the per-minute limit, full at start and refilled continuously (limit/60
 * per second): a burst of a whole minute's worth goes through at once, then requests go through at
 * the refill rate. A request is admitted only when the request bucket holds 1 and the token bucket
 * the request's estimated tokens, and then takes from both; a refused request takes nothing, so a
 * client that waits as long as it is told gets in. Synchronized because the simulator's handler is
 * called concurrently; the clock (nanoseconds) is injected so tests drive time instead of sleeping.
 */
final class RateBuckets {

  /** The limit that refused a request. */
  enum Limit { REQUESTS, TOKENS }

  /** One bucket as the headers show it: its capacity, the whole units left, the time until it is full again. */
  record Level(long limit, long remaining, long resetMillis) {}

  /**
   * The verdict on one request: {@code refusedBy} is null when it was admitted; {@code retryAfterMillis}
   * is how long until the refusing bucket holds enough (0 when admitted, -1 when it never will: more
   * tokens than the limit). {@code requests} and {@code tokens} are the buckets right after the
   * verdict, null for a limit that is off.
   */
  record Decision(Limit refusedBy, long retryAfterMillis, Level requests, Level tokens) {
    boolean admitted() {
      return refusedBy == null;
    }
  }

  private final Bucket requests;
  private final Bucket tokens;
  private final LongSupplier nanoClock;

  /** A limit of 0 is no limit. */
  RateBuckets(long requestsPerMinute, long tokensPerMinute, LongSupplier nanoClock) {
    long now = nanoClock.getAsLong();
    this.requests = requestsPerMinute > 0 ? new Bucket(requestsPerMinute, now) : null;
    this.tokens = tokensPerMinute > 0 ? new Bucket(tokensPerMinute, now) : null;
    this.nanoClock = nanoClock;
  }

  /** Admits a request that asks for {@code estimatedTokens}, taking from both buckets, or refuses it and takes nothing. */
  synchronized Decision admit(long estimatedTokens) {
    refill();
    if (requests != null && requests.level < 1) {
      return decision(Limit.REQUESTS, requests.millisUntil(1));
    }
    if (tokens != null && tokens.level < estimatedTokens) {
      return decision(Limit.TOKENS, estimatedTokens > tokens.capacity ? -1 : tokens.millisUntil(estimatedTokens));
    }
    if (requests != null) {
      requests.level -= 1;
    }
    if (tokens != null) {
      tokens.level -= estimatedTokens;
    }
    return decision(null, 0);
  }

  /** The buckets as they are, for a response to a request that was not weighed (refused before, or malformed). */
  synchronized Decision peek() {
    refill();
    return decision(null, 0);
  }

  private void refill() {
    long now = nanoClock.getAsLong();
    if (requests != null) {
      requests.refill(now);
    }
    if (tokens != null) {
      tokens.refill(now);
    }
  }

  private Decision decision(Limit refusedBy, long retryAfterMillis) {
    return new Decision(refusedBy, retryAfterMillis, requests == null ? null : requests.level(), tokens == null ? null : tokens.level());
  }

  /**
   * A duration as Go's {@code time.Duration} prints it, which is how OpenAI writes
   * {@code x-ratelimit-reset-*}: {@code 120ms} under a second, else hours, minutes and seconds with
   * up to three decimals ({@code 17.262s}, {@code 6m0s}, {@code 1h2m3.5s}), and {@code 0s} for none.
   */
  static String goDuration(long millis) {
    if (millis <= 0) {
      return "0s";
    }
    if (millis < 1000) {
      return millis + "ms";
    }
    long hours = millis / 3_600_000;
    long minutes = millis / 60_000 % 60;
    long secondMillis = millis % 60_000;
    String fraction = secondMillis % 1000 == 0 ? "" : ("." + String.format("%03d", secondMillis % 1000)).replaceAll("0+$", "");
    return (hours > 0 ? hours + "h" : "") + (hours > 0 || minutes > 0 ? minutes + "m" : "") + secondMillis / 1000 + fraction + "s";
  }

  /** A bucket's fill, fractional because it refills continuously. */
  private static final class Bucket {
    /** Below this a difference is float noise, not a part of a unit. */
    private static final double EPSILON = 1e-9;

    final long capacity;
    double level;
    long at;

    Bucket(long capacity, long now) {
      this.capacity = capacity;
      this.level = capacity;
      this.at = now;
    }

    void refill(long now) {
      if (now > at) {
        level = Math.min(capacity, level + (now - at) * (capacity / 60e9));
        at = now;
      }
    }

    /** Milliseconds, rounded up, until the bucket holds {@code amount}. */
    long millisUntil(double amount) {
      double missing = amount - level;
      return missing <= EPSILON ? 0 : (long) Math.ceil(missing * 60_000 / capacity - EPSILON);
    }

    Level level() {
      return new Level(capacity, (long) Math.floor(level + EPSILON), millisUntil(capacity));
    }
  }
}
