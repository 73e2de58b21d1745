package io.skein.protocol.spec;

/**
 * How a record retries a failed call: attempts in all, the exponential backoff's bounds, and how
 * long a provider may stay unavailable (refusing connections, or answering 502, 503 or 504) before
 * the record stops waiting and the job pauses; such failures, like 429s, spend no attempt.
 */
public record RetrySpec(int maxAttempts, long initialBackoffMillis, long maxBackoffMillis, long pauseAfterMillis) {

  public static final long DEFAULT_PAUSE_AFTER_MILLIS = 120_000;

  public static final RetrySpec DEFAULT = new RetrySpec(6, 500, 30_000, DEFAULT_PAUSE_AFTER_MILLIS);

  public RetrySpec(int maxAttempts, long initialBackoffMillis, long maxBackoffMillis) {
    this(maxAttempts, initialBackoffMillis, maxBackoffMillis, DEFAULT_PAUSE_AFTER_MILLIS);
  }
}
