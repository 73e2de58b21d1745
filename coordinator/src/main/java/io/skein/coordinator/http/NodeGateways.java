package io.skein.coordinator.http;

import io.skein.protocol.CborSerializable;
import io.skein.worker.gateway.ModelGateway;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Every node's model gateways, for {@code GET /cluster}: each node runs one of these actors,
 * registered with the cluster's receptionist, which answers with how its gateways stand (the
 * concurrency each uses, its share of the limit, calls in flight and waiting). A node that does not
 * answer in time is left out, not waited for.
 */
public final class NodeGateways {

  public static final ServiceKey<Ask> KEY = ServiceKey.create(Ask.class, "skein-node-gateways");

  public record Ask(ActorRef<Report> replyTo) implements CborSerializable {}

  /** {@code node}: host:port as {@code GET /cluster} names members. */
  public record Report(String node, List<ModelGateway.Stats> models) implements CborSerializable {}

  private NodeGateways() {}

  public static Behavior<Ask> create(Supplier<CompletionStage<List<ModelGateway.Stats>>> models) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      String node = ctx.getSystem().address().hostPort();
      return Behaviors.receiveMessage(ask -> {
        models.get().whenComplete((stats, error) -> ask.replyTo().tell(new Report(node, error == null ? stats : List.of())));
        return Behaviors.same();
      });
    });
  }

  /** The reports of the nodes that answer within {@code timeout}, by node. */
  public static CompletionStage<Map<String, List<ModelGateway.Stats>>> gather(ActorSystem<?> system, Duration timeout) {
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(), replyTo -> Receptionist.find(KEY, replyTo),
            timeout, system.scheduler())
        .thenCompose(listing -> {
          List<CompletableFuture<Report>> asks = listing.getServiceInstances(KEY).stream()
              .map(node -> AskPattern.<Ask, Report>ask(node, Ask::new, timeout, system.scheduler()).toCompletableFuture()
                  .exceptionally(slow -> null))
              .toList();
          return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(done -> {
            Map<String, List<ModelGateway.Stats>> byNode = new TreeMap<>();
            asks.stream().map(CompletableFuture::join).filter(r -> r != null).forEach(r -> byNode.put(r.node(), r.models()));
            return byNode;
          });
        })
        .exceptionally(noReceptionist -> Map.of());
  }
}
