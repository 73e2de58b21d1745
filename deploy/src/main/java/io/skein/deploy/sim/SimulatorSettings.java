package io.skein.deploy.sim;

/**
 * The simulator's latency and fault model: mean latency and its spread, the fractions of requests
 * answered 500, 429 (with {@code Retry-After: retryAfterSeconds}) and ten times slower, and the
 * seed that makes text and faults reproducible. With {@code apiKey} set, requests without
 * {@code Authorization: Bearer <apiKey>} are answered 401, as a real provider would. With
 * {@code maxConcurrent} above 0, a request arriving while that many are being answered gets a 429
 * ({@code retry-after-ms: 200}), as a provider with a concurrency quota does; these follow timing,
 * not the seed. {@code answers} says how it answers what step kinds ask for. With
 * {@code requestsPerMinute} or {@code tokensPerMinute} above 0 it enforces OpenAI's per-minute
 * limits: each is a bucket holding a minute's worth, full at start and refilled continuously; a
 * request that finds too little is answered 429 at once with {@code retry-after-ms}, and every
 * completion response says where the buckets stand in OpenAI's {@code x-ratelimit-*} headers (see
 * {@link RateBuckets}), so clients that pace themselves by those headers can be tried locally.
 */
public record SimulatorSettings(
    long latencyMillis, double jitter, double errorRate, double rateLimitRate, double slowRate, long seed, int retryAfterSeconds,
    String apiKey, int maxConcurrent, Answers answers, double brokenRate, int requestsPerMinute, long tokensPerMinute) {

  public SimulatorSettings(
      long latencyMillis, double jitter, double errorRate, double rateLimitRate, double slowRate, long seed, int retryAfterSeconds,
      String apiKey, int maxConcurrent, Answers answers, double brokenRate) {
    this(latencyMillis, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfterSeconds, apiKey, maxConcurrent, answers, brokenRate,
        0, 0);
  }

  public SimulatorSettings(
      long latencyMillis, double jitter, double errorRate, double rateLimitRate, double slowRate, long seed, int retryAfterSeconds,
      String apiKey, int maxConcurrent, Answers answers) {
    this(latencyMillis, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfterSeconds, apiKey, maxConcurrent, answers, 0.0);
  }

  /**
   * {@code brokenRate}: the share of requests answered 200 with a body no client can use — the
   * completion's JSON cut off halfway, a completion without choices, or an HTML error page — as
   * proxies and overloaded servers do. Which ones follows the seed, as for the other faults.
   */
  public SimulatorSettings withBrokenRate(double rate) {
    return new SimulatorSettings(latencyMillis, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfterSeconds, apiKey, maxConcurrent,
        answers, rate, requestsPerMinute, tokensPerMinute);
  }

  /**
   * OpenAI's per-minute limits (0: none). A request counts 1 against {@code requestsPerMinute} and,
   * against {@code tokensPerMinute}, what OpenAI counts at admission before anything is generated:
   * its prompt's tokens (here the words of the messages' text, 85 an image, as {@code usage} reports
   * them) plus {@code max_tokens} (or {@code max_completion_tokens}; 16 when neither is given) times
   * {@code n}.
   */
  public SimulatorSettings withRateLimits(int requestsPerMinute, long tokensPerMinute) {
    return new SimulatorSettings(latencyMillis, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfterSeconds, apiKey, maxConcurrent,
        answers, brokenRate, requestsPerMinute, tokensPerMinute);
  }

  public static final SimulatorSettings DEFAULT = new SimulatorSettings(0, 0.0, 0.0, 0.0, 0.0, 1, 1, null);

  /**
   * {@code badJsonRate}: the share of first answers to a structured request (no assistant message
   * yet) that break the schema or do not parse; {@code badCodeRate}: the same for code, which then
   * does not parse; {@code reasoning}: answers start with a {@code <think>} block;
   * {@code toolRounds}: a request that offers tools is answered with tool calls until the
   * conversation has had this many rounds of them (0: never).
   */
  public record Answers(double badJsonRate, double badCodeRate, boolean reasoning, int toolRounds) {
    public static final Answers GOOD = new Answers(0, 0, false);

    public Answers(double badJsonRate, double badCodeRate, boolean reasoning) {
      this(badJsonRate, badCodeRate, reasoning, 1);
    }
  }

  public SimulatorSettings(
      long latencyMillis, double jitter, double errorRate, double rateLimitRate, double slowRate, long seed, int retryAfterSeconds,
      String apiKey, int maxConcurrent) {
    this(latencyMillis, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfterSeconds, apiKey, maxConcurrent, Answers.GOOD);
  }

  public SimulatorSettings withAnswers(Answers answers) {
    return new SimulatorSettings(latencyMillis, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfterSeconds, apiKey, maxConcurrent,
        answers, brokenRate, requestsPerMinute, tokensPerMinute);
  }

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
