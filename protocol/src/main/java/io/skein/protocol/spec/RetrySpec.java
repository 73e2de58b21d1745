package io.skein.protocol.spec;

/** How a record retries a failed call: attempts in all, and the exponential backoff's bounds. */
public record RetrySpec(int maxAttempts, long initialBackoffMillis, long maxBackoffMillis) {

  public static final RetrySpec DEFAULT = new RetrySpec(6, 500, 30_000);
}
