package io.skein.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * How a node joins its cluster, from {@code skein.cluster.discovery}: {@code seeds} (the seed
 * nodes given, or none: it joins itself) or {@code kubernetes-api} (Pekko Cluster Bootstrap over
 * the pods the Kubernetes API lists, which needs the management endpoint). The management
 * endpoint ({@code /ready}, {@code /alive}, bootstrap) runs when {@code skein.management.port} is
 * set or bootstrap needs it.
 */
final class ClusterJoin {

  static final String SEEDS = "seeds";
  static final String KUBERNETES = "kubernetes-api";

  private ClusterJoin() {}

  /** The config with the management endpoint placed; refuses a discovery it does not know, and seeds with bootstrap. */
  static Config settle(Config config, String host) {
    String discovery = config.getString("skein.cluster.discovery");
    if (!discovery.equals(SEEDS) && !discovery.equals(KUBERNETES)) {
      throw new IllegalArgumentException("skein.cluster.discovery is `" + discovery + "`: use `" + SEEDS + "` or `" + KUBERNETES + "`");
    }
    if (discovery.equals(KUBERNETES) && !config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      throw new IllegalArgumentException("seed nodes and kubernetes-api discovery exclude each other: drop --seed (or"
          + " pekko.cluster.seed-nodes), or set skein.cluster.discovery = seeds");
    }
    int port = config.getInt("skein.management.port");
    if (discovery.equals(KUBERNETES) && port <= 0) {
      port = 7626;
    }
    if (port <= 0) {
      return config;
    }
    String at = config.getString("skein.management.host").isBlank() ? host : config.getString("skein.management.host");
    return ConfigFactory.parseMap(Map.of("pekko.management.http.hostname", at, "pekko.management.http.port", port,
        "skein.management.port", port)).withFallback(config);
  }

  /** Starts the management endpoint (if configured), then joins: bootstrap, the seeds (Pekko does), or itself. */
  static void start(ActorSystem<?> system, Config config) throws Exception {
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(system);
    if (config.getInt("skein.management.port") > 0) {
      PekkoManagement.get(classic).start().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    if (config.getString("skein.cluster.discovery").equals(KUBERNETES)) {
      ClusterBootstrap.get(classic).start();
    } else if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }
}
