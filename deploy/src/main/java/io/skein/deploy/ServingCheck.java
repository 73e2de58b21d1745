package io.skein.deploy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * The readiness check Pekko Management asks on {@code /ready} (with its own cluster-membership
 * check): true from the moment a node serves — shard regions, HTTP API and resumed jobs up — until
 * it starts to drain on SIGTERM, so Kubernetes sends it requests only in between.
 */
public final class ServingCheck implements Supplier<CompletionStage<Boolean>> {

  /** Whether a node's actor system serves. */
  static final class Serving implements Extension {
    final AtomicBoolean on = new AtomicBoolean();
  }

  static final AbstractExtensionId<Serving> SERVING = new AbstractExtensionId<>() {
    @Override
    public Serving createExtension(ExtendedActorSystem system) {
      return new Serving();
    }
  };

  private final Serving serving;

  /** Made by Pekko Management, once per check, for the node's system. */
  public ServingCheck(ActorSystem system) {
    this.serving = SERVING.get(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(serving.on.get());
  }

  static void set(ActorSystem system, boolean on) {
    SERVING.get(system).on.set(on);
  }
}
