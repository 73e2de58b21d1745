package io.skein.worker.gateway;

import io.skein.protocol.CallId;

/**
 * One attempt of one call: who makes it, the exact request body (canonical JSON, with the seed
 * derived from the call's identity), its fingerprint, the tokens it may use (for budgets), and its
 * key in the response cache (the endpoint, the provider's model and the body; null: not cached),
 * and how long the provider may take to answer (null: the provider's {@code request-timeout}; a
 * spec's {@code models.<alias>.timeout}), the tenant whose job asks (null: none), and the provider's
 * endpoint it goes to ({@link #CHAT}, or {@link #EMBEDDINGS} for a request kind's embeddings body).
 * Never carries credentials.
 */
public record ModelRequest(
    String recordKey, CallId callId, int attempt, String model, String body, String fingerprint, long estimatedTokens,
    String cacheKey, java.time.Duration timeout, String tenant, String endpoint) {

  /** The endpoint of chat completions (the default), and of embeddings. */
  public static final String CHAT = "chat/completions";
  public static final String EMBEDDINGS = "embeddings";

  public ModelRequest {
    endpoint = endpoint == null ? CHAT : endpoint;
  }

  public ModelRequest(String recordKey, CallId callId, int attempt, String model, String body, String fingerprint, long estimatedTokens,
      String cacheKey, java.time.Duration timeout) {
    this(recordKey, callId, attempt, model, body, fingerprint, estimatedTokens, cacheKey, timeout, null, CHAT);
  }

  public ModelRequest(String recordKey, CallId callId, int attempt, String model, String body, String fingerprint, long estimatedTokens) {
    this(recordKey, callId, attempt, model, body, fingerprint, estimatedTokens, null, null);
  }

}
