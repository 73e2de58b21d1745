package io.skein.worker.gateway;

import org.apache.pekko.actor.typed.ActorRef;

/** How a record reaches models: the provider a model name is bound to, and its gateway on this node. */
public interface ModelAccess {

  /** Throws {@link IllegalArgumentException} naming the model when no provider serves it. */
  Provider provider(String model);

  ActorRef<ModelGateway.Command> gateway(String model);

  /** What models cost on this node ({@code skein.prices}). */
  default Prices prices() {
    return Prices.NONE;
  }

  /** Whether answers may come from and go to the response cache (a spec can still opt out). */
  default boolean caching() {
    return false;
  }
}
