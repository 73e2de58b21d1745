package io.skein.worker.gateway;

import java.time.Duration;

/**
 * Where a spec's model name goes: an OpenAI-compatible base URL, the env variable holding its key
 * (the key itself is read when a request is sent and never stored), the provider's model name,
 * and this node's concurrency limit and request timeout for it.
 */
public record Provider(
    String name,
    String baseUrl,
    String apiKeyEnv,
    String model,
    int maxConcurrency,
    Duration requestTimeout) {

  public String completionsUrl() {
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    return base + "/chat/completions";
  }
}
