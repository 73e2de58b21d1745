package io.skein.deploy.sim;

/**
 * The simulator's latency and fault model: mean latency and its spread, the fractions of requests
 * answered 500, 429 (with {@code Retry-After: retryAfterSeconds}) and ten times slower, and the
 * seed that makes text and faults reproducible. With {@code apiKey} set, requests without
 * {@code Authorization: Bearer <apiKey>} are answered 401, as a real provider would. With
 * {@code maxConcurrent} above 0, a request arriving while that many are being answered gets a 429
 * ({@code retry-after-ms: 200}), as a provider with a concurrency quota does; these follow timing,
 * not the seed.
 */
public record SimulatorSettings(
    long latencyMillis, double jitter, double errorRate, double rateLimitRate, double slowRate, long seed, int retryAfterSeconds,
    String apiKey, int maxConcurrent) {

  public static final SimulatorSettings DEFAULT = new SimulatorSettings(0, 0.0, 0.0, 0.0, 0.0, 1, 1, null);

  public SimulatorSettings(
      long latencyMillis, double jitter, double errorRate, double rateLimitRate, double slowRate, long seed, int retryAfterSeconds,
      String apiKey) {
    this(latencyMillis, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfterSeconds, apiKey, 0);
  }

  public SimulatorSettings(
      long latencyMillis, double jitter, double errorRate, double rateLimitRate, double slowRate, long seed, int retryAfterSeconds) {
    this(latencyMillis, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfterSeconds, null);
  }
}
