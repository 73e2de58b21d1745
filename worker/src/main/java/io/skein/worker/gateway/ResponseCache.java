package io.skein.worker.gateway;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Answers kept by the exact request that got them ({@link ModelRequest#cacheKey()}), shared by
 * every node and job on the same database. A cache is an optimization: a lookup that fails
 * answers empty, and a write may be lost, never the call.
 */
public interface ResponseCache {

  /** The answer stored for {@code key}, marked {@code cached}; empty when there is none or the cache cannot say. */
  CompletionStage<Optional<ModelOutcome.Ok>> get(String key);

  /** Keeps {@code answer} for {@code key}, unless one is kept already. Returns at once. */
  void put(String key, ModelOutcome.Ok answer);

  ResponseCache NONE = new ResponseCache() {
    @Override
    public CompletionStage<Optional<ModelOutcome.Ok>> get(String key) {
      return CompletableFuture.completedFuture(Optional.empty());
    }

    @Override
    public void put(String key, ModelOutcome.Ok answer) {}
  };
}
