package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** How a node's config says it joins: seeds by default, the Kubernetes API with a management endpoint, never both. */
class ClusterJoinTest {

  private static Config config(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.parseResourcesAnySyntax("application")).resolve();
  }

  @Test
  void byDefaultANodeUsesSeedsAndRunsNoManagementEndpoint() {
    Config c = ClusterJoin.settle(config(""), "10.0.0.5");
    assertEquals("seeds", c.getString("skein.cluster.discovery"));
    assertEquals(0, c.getInt("skein.management.port"), "a laptop run opens no extra port");
  }

  @Test
  void kubernetesDiscoveryOpensTheManagementEndpointOnTheNodesHost() {
    Config c = ClusterJoin.settle(config("skein.cluster.discovery = kubernetes-api"), "10.0.0.5");
    assertEquals(7626, c.getInt("pekko.management.http.port"), "bootstrap needs it: the default port");
    assertEquals("10.0.0.5", c.getString("pekko.management.http.hostname"));
    assertEquals("kubernetes-api", c.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
    assertEquals("management", c.getString("pekko.management.cluster.bootstrap.contact-point-discovery.port-name"));
    assertTrue(c.getConfig("pekko.management.health-checks.readiness-checks").hasPath("skein-serving"));
  }

  @Test
  void aManagementPortAloneGivesTheProbesToASeedNode() {
    Config c = ClusterJoin.settle(config("skein.management { port = 8558, host = 0.0.0.0 }"), "127.0.0.1");
    assertEquals(8558, c.getInt("pekko.management.http.port"));
    assertEquals("0.0.0.0", c.getString("pekko.management.http.hostname"));
    assertEquals("seeds", c.getString("skein.cluster.discovery"));
  }

  @Test
  void seedsWithKubernetesDiscoveryOrAnUnknownDiscoveryAreRefused() {
    IllegalArgumentException both = assertThrows(IllegalArgumentException.class, () -> ClusterJoin.settle(
        config("skein.cluster.discovery = kubernetes-api\npekko.cluster.seed-nodes = [\"pekko://skein@10.0.0.1:2551\"]"), "h"));
    assertTrue(both.getMessage().contains("exclude each other"), both.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> ClusterJoin.settle(config("skein.cluster.discovery = dns"), "h"));
    assertTrue(unknown.getMessage().contains("`dns`: use `seeds` or `kubernetes-api`"), unknown.getMessage());
  }
}
