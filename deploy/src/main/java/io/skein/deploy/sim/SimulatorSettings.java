package io.skein.deploy.sim;

/**
 * The simulator's latency and fault model: mean latency and its spread, the fractions of requests
 * answered 500, 429 (with {@code Retry-After: retryAfterSeconds}) and ten times slower, and the
 * seed that makes text and faults reproducible.
 */
public record SimulatorSettings(
    long latencyMillis, double jitter, double errorRate, double rateLimitRate, double slowRate, long seed, int retryAfterSeconds) {

  public static final SimulatorSettings DEFAULT = new SimulatorSettings(0, 0.0, 0.0, 0.0, 0.0, 1, 1);
}
