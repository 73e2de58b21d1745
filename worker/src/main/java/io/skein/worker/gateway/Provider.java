package io.skein.worker.gateway;

import java.time.Duration;

/**
 * Where a spec's model name goes: an OpenAI-compatible base URL, the env variable holding its key
 * (the key itself is read when a request is sent and never stored), the provider's model name,
 * and its limits: calls in flight, requests and tokens per minute (0: no budget). Limits are for
 * the whole cluster; each node's gateway takes its share. {@code schemaInPrompt}: the provider
 * takes no {@code response_format: json_schema}, so a structured call states its schema in the
 * prompt instead ({@code structured-output = prompt}). {@code cacheScope}: what answers in the
 * response cache are shared under, with the model and request: the base URL, except for the
 * built-in simulator, whose port changes every run and whose answers do not.
 *
 * <p>{@code endpoints}: the servers behind this name when there are several (weights and failover;
 * then {@code baseUrl} and {@code cacheScope} name the model, not a server, so a call's fingerprint
 * and cache key do not depend on which server answers); empty when this provider is its one server.
 */
public record Provider(
    String name,
    String baseUrl,
    String apiKeyEnv,
    String model,
    int maxConcurrency,
    Duration requestTimeout,
    long requestsPerMinute,
    long tokensPerMinute,
    boolean schemaInPrompt,
    String cacheScope,
    java.util.List<Endpoint> endpoints) {

  public Provider {
    endpoints = endpoints == null ? java.util.List.of() : java.util.List.copyOf(endpoints);
  }

  public Provider(String name, String baseUrl, String apiKeyEnv, String model, int maxConcurrency, Duration requestTimeout,
      long requestsPerMinute, long tokensPerMinute, boolean schemaInPrompt, String cacheScope) {
    this(name, baseUrl, apiKeyEnv, model, maxConcurrency, requestTimeout, requestsPerMinute, tokensPerMinute, schemaInPrompt, cacheScope,
        java.util.List.of());
  }

  /** The cache scope of the built-in simulator. */
  public static final String SIMULATOR = "skein-simulator";

  public Provider(String name, String baseUrl, String apiKeyEnv, String model, int maxConcurrency, Duration requestTimeout) {
    this(name, baseUrl, apiKeyEnv, model, maxConcurrency, requestTimeout, 0, 0, false, baseUrl);
  }

  public Provider(String name, String baseUrl, String apiKeyEnv, String model, int maxConcurrency, Duration requestTimeout,
      long requestsPerMinute, long tokensPerMinute) {
    this(name, baseUrl, apiKeyEnv, model, maxConcurrency, requestTimeout, requestsPerMinute, tokensPerMinute, false, baseUrl);
  }

  /** The same provider with another request timeout (a spec's {@code models.<alias>.timeout}). */
  public Provider withRequestTimeout(Duration timeout) {
    return new Provider(name, baseUrl, apiKeyEnv, model, maxConcurrency, timeout, requestsPerMinute, tokensPerMinute, schemaInPrompt,
        cacheScope, endpoints);
  }

  /** The servers calls go to: its endpoints, or this provider itself, named by its URL's host and port. */
  public java.util.List<Endpoint> servers() {
    return endpoints.isEmpty() ? java.util.List.of(new Endpoint(Endpoint.nameOf(baseUrl), this, 1)) : endpoints;
  }

  public String completionsUrl() {
    return url(ModelRequest.CHAT);
  }

  /** The URL of one of its endpoints ({@code chat/completions}, {@code embeddings}). */
  public String url(String endpoint) {
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    return base + "/" + endpoint;
  }
}
