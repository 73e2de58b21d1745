package io.skein.coordinator.http;

import static org.apache.pekko.http.javadsl.server.Directives.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.job.JobCoordinator;
import io.skein.worker.entity.RecordWorker;
import io.skein.worker.gateway.ModelGateway;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The cluster resource: {@code GET /cluster} lists the members with their status and, for each
 * node, how many records and job coordinators it runs now (from the shard regions' statistics)
 * and how its model gateways stand (asked of every node, {@link NodeGateways});
 * {@code GET /cluster/records} lists the records running on the node that answers, and
 * {@code GET /cluster/models} how that node's model gateways stand.
 */
public final class ClusterRoutes {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final ActorSystem<?> system;
  private final Supplier<CompletionStage<List<ModelGateway.Stats>>> models;

  public ClusterRoutes(ActorSystem<?> system, Supplier<CompletionStage<List<ModelGateway.Stats>>> models) {
    this.system = system;
    this.models = models;
  }

  public Route route() {
    return pathPrefix("cluster", () -> concat(
        pathEnd(() -> get(() -> completeWithFuture(members().exceptionally(JobRoutes::problem)))),
        path("records", () -> get(() -> completeWithFuture(localRecords().exceptionally(JobRoutes::problem)))),
        path("models", () -> get(() -> completeWithFuture(localModels().exceptionally(JobRoutes::problem))))));
  }

  private CompletionStage<HttpResponse> localModels() {
    return models.get().thenApply(all -> {
      ObjectNode root = JSON.createObjectNode();
      root.put("node", Cluster.get(system).selfMember().address().hostPort());
      gateways(root.putArray("models"), all);
      return json(root);
    });
  }

  private static void gateways(ArrayNode list, List<ModelGateway.Stats> all) {
    for (ModelGateway.Stats s : all) {
      list.addObject()
          .put("model", s.model())
          .put("max_concurrency", s.ceiling())
          .put("concurrency", s.limit())
          .put("in_flight", s.inFlight())
          .put("waiting", s.waiting());
    }
  }

  private CompletionStage<HttpResponse> members() {
    Cluster cluster = Cluster.get(system);
    var state = cluster.state();
    var gateways = NodeGateways.gather(system, TIMEOUT.dividedBy(2));
    return entitiesPerNode(RecordWorker.ENTITY_TYPE_KEY).thenCombine(entitiesPerNode(JobCoordinator.ENTITY_TYPE_KEY), (records, jobs) -> {
      ObjectNode root = JSON.createObjectNode();
      root.put("self", cluster.selfMember().address().toString());
      root.put("leader", state.getLeader() == null ? null : state.getLeader().toString());
      ArrayNode members = root.putArray("members");
      var unreachable = new TreeSet<String>();
      state.getUnreachable().forEach(m -> unreachable.add(m.address().toString()));
      for (Member m : state.getMembers()) {
        String address = m.address().toString();
        ObjectNode n = members.addObject();
        n.put("address", address);
        n.put("node", m.address().hostPort());
        n.put("status", m.status().toString().toLowerCase(java.util.Locale.ROOT));
        n.put("reachable", !unreachable.contains(address));
        ArrayNode roles = n.putArray("roles");
        m.getRoles().forEach(roles::add);
        n.put("records", records.getOrDefault(m.address(), 0));
        n.put("job_coordinators", jobs.getOrDefault(m.address(), 0));
      }
      return root;
    }).thenCombine(gateways, (root, byNode) -> {
      // Each member's model gateways, where it answered in time.
      for (var n : root.get("members")) {
        List<ModelGateway.Stats> of = byNode.get(n.get("node").asText());
        if (of != null) {
          gateways(((ObjectNode) n).putArray("models"), of);
        }
      }
      return json(root);
    });
  }

  private CompletionStage<Map<Address, Integer>> entitiesPerNode(EntityTypeKey<?> key) {
    return AskPattern.<GetClusterShardingStats, ShardRegion.ClusterShardingStats>ask(
            ClusterSharding.get(system).shardState().narrow(),
            replyTo -> new GetClusterShardingStats(key, TIMEOUT, replyTo), TIMEOUT.plusSeconds(1), system.scheduler())
        .thenApply(stats -> {
          Map<Address, Integer> out = new HashMap<>();
          stats.getRegions().forEach((address, region) -> {
            int n = 0;
            for (Object count : region.getStats().values()) {
              n += ((Number) count).intValue();
            }
            out.put(address, n);
          });
          return out;
        });
  }

  private CompletionStage<HttpResponse> localRecords() {
    return AskPattern.<GetShardRegionState, ShardRegion.CurrentShardRegionState>ask(
            ClusterSharding.get(system).shardState().narrow(),
            replyTo -> new GetShardRegionState(RecordWorker.ENTITY_TYPE_KEY, replyTo), TIMEOUT, system.scheduler())
        .thenApply(state -> {
          ObjectNode root = JSON.createObjectNode();
          root.put("node", Cluster.get(system).selfMember().address().hostPort());
          ArrayNode ids = root.putArray("records");
          var sorted = new TreeSet<String>();
          state.getShards().forEach(shard -> sorted.addAll(shard.getEntityIds()));
          sorted.forEach(ids::add);
          return json(root);
        });
  }

  private static HttpResponse json(ObjectNode body) {
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
  }
}
