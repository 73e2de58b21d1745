package io.skein.worker.gateway;

import java.util.concurrent.CompletionStage;

/** Sends one chat-completion request; never completes exceptionally (errors are outcomes). */
public interface ModelClient {

  CompletionStage<ModelOutcome> complete(Provider provider, String body);

  /** An outcome with what the server said of its rate limits while giving it. */
  record Answered(ModelOutcome outcome, RateLimits limits) {}

  /** As {@link #complete}, with the server's rate-limit headers (a client that reads none says {@link RateLimits#NONE}). */
  default CompletionStage<Answered> send(Provider provider, String body) {
    return complete(provider, body).thenApply(outcome -> new Answered(outcome, RateLimits.NONE));
  }

  /** As {@link #send(Provider, String)}, to one of the provider's endpoints ({@link ModelRequest#CHAT} or {@link ModelRequest#EMBEDDINGS}). */
  default CompletionStage<Answered> send(Provider provider, String endpoint, String body) {
    return send(provider, body);
  }
}
