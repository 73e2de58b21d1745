package io.skein.worker.gateway;

import java.util.concurrent.CompletionStage;

/** Sends one chat-completion request; never completes exceptionally (errors are outcomes). */
public interface ModelClient {

  CompletionStage<ModelOutcome> complete(Provider provider, String body);
}
