package io.skein.deploy;

import io.skein.deploy.sim.ModelSimulator;
import io.skein.deploy.sim.SimulatorSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code skein simulate}: the OpenAI-compatible model simulator as a server of its own. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = "Serve an OpenAI-compatible model simulator (/v1/chat/completions, /v1/models, /stats) with latency and faults.")
final class SimulateCommand implements Callable<Integer> {

  @Option(names = "--host", defaultValue = "127.0.0.1") String host;
  @Option(names = "--port", defaultValue = "9000") int port;
  @Option(names = "--latency-ms", defaultValue = "300", description = "Mean answer latency (default: ${DEFAULT-VALUE}).") long latencyMs;
  @Option(names = "--jitter", defaultValue = "0.3", description = "Latency spread, as a fraction of the mean (default: ${DEFAULT-VALUE}).") double jitter;
  @Option(names = "--error-rate", defaultValue = "0", description = "Fraction of requests answered 500.") double errorRate;
  @Option(names = "--rate-limit-rate", defaultValue = "0", description = "Fraction of requests answered 429 with Retry-After.") double rateLimitRate;
  @Option(names = "--slow-rate", defaultValue = "0", description = "Fraction of requests answered ten times slower.") double slowRate;
  @Option(names = "--broken-rate", defaultValue = "0",
      description = "Fraction of requests answered 200 with a body no client can use: JSON cut off halfway, no choices, or an HTML page.")
  double brokenRate;
  @Option(names = "--retry-after", defaultValue = "1", description = "Retry-After seconds on 429 (default: ${DEFAULT-VALUE}).") int retryAfter;
  @Option(names = "--seed", defaultValue = "1", description = "Seed of the text and fault model: the same seed, the same run.") long seed;
  @Option(names = "--max-concurrent", defaultValue = "0",
      description = "Answer 429 to requests beyond this many at once, like a provider's concurrency quota (default: no limit).")
  int maxConcurrent;
  @Option(names = "--requests-per-minute", defaultValue = "0",
      description = "OpenAI's requests-per-minute limit: a bucket of N refilled continuously; beyond it 429 with retry-after-ms (default: no limit).")
  int requestsPerMinute;
  @Option(names = "--tokens-per-minute", defaultValue = "0",
      description = "OpenAI's tokens-per-minute limit; a request counts its prompt's words plus max_tokens (16 if unset) x n (default: no limit).")
  long tokensPerMinute;
  @Option(names = "--bad-json-rate", defaultValue = "0",
      description = "Fraction of first answers to structured requests that break the schema or do not parse.") double badJsonRate;
  @Option(names = "--bad-code-rate", defaultValue = "0", description = "Fraction of first code answers that do not parse.") double badCodeRate;
  @Option(names = "--reasoning", description = "Start answers with a <think> block, as reasoning models do.") boolean reasoning;
  @Option(names = "--tool-rounds", defaultValue = "1",
      description = "Rounds of tool calls a conversation that offers tools gets before its answer (default: ${DEFAULT-VALUE}).")
  int toolRounds;
  @Option(names = "--api-key-env", description = "Require `Authorization: Bearer` with the key in this env variable (else 401).") String apiKeyEnv;

  @Override
  public Integer call() throws Exception {
    String apiKey = apiKeyEnv == null ? null : System.getenv(apiKeyEnv);
    if (apiKeyEnv != null && (apiKey == null || apiKey.isBlank())) {
      System.err.println("skein simulate: --api-key-env names " + apiKeyEnv + ", which is not set");
      return 2;
    }
    ModelSimulator.runForever(
        new SimulatorSettings(latencyMs, jitter, errorRate, rateLimitRate, slowRate, seed, retryAfter, apiKey, maxConcurrent,
            new SimulatorSettings.Answers(badJsonRate, badCodeRate, reasoning, toolRounds), brokenRate)
            .withRateLimits(requestsPerMinute, tokensPerMinute), host, port);
    return 0;
  }
}
