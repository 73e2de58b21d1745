package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.TestDatabases;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three nodes in separate JVMs find each other through a stand-in Kubernetes API server (the
 * fabric8 mock server over HTTPS, serving the pod list as the real API does) by Pekko Cluster
 * Bootstrap, as they do on Kubernetes: no seed nodes. A pod that is listed but not running is not
 * a contact point; no node is ready until the cluster has formed; a pod removed from the list and
 * killed is downed, and its records continue on the others; a rolling update that replaces every
 * pod with a new JVM, one at a time, repeats no call.
 */
@Tag("scenario")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubernetesBootstrapTest {

  private TestSimulator sim;
  private KubernetesApiStandIn api;
  private ClusterFixture cluster;
  private final int[] management = new int[3];

  @BeforeAll
  void start() throws Exception {
    Assumptions.assumeTrue(TestDatabases.postgresUrl().isPresent(), TestDatabases.PG_SKIP_MESSAGE);
    Path dir = Files.createTempDirectory("skein-k8s-bootstrap");
    sim = new TestSimulator(new SimulatorSettings(30, 0.3, 0.0, 0.0, 0.0, 11, 0));
    api = new KubernetesApiStandIn(dir);
    String dbUrl = TestDatabases.freshPostgresSchema(TestDatabases.postgresUrl().get());
    cluster = new ClusterFixture(dir, dbUrl, sim, 3, """
        skein.models.providers."sim-small" { base-url = "%s", max-concurrency = 60 }
        %s
        # A test's patience: probe often, and let the lowest node form the cluster soon after all answer.
        pekko.management.cluster.bootstrap.contact-point-discovery {
          interval = 500ms
          stable-margin = 2s
        }
        """.formatted(sim.simulator.baseUrl(), api.discoveryConfig()));
    for (int i = 0; i < 3; i++) {
      management[i] = SkeinProcess.freePort();
    }
    cluster.discoverBy(i -> {
      Map<String, String> env = new HashMap<>(api.env());
      env.put("SKEIN_CLUSTER_DISCOVERY", "kubernetes-api");
      env.put("SKEIN_MANAGEMENT_PORT", String.valueOf(management[i]));
      return env;
    });
    for (int i = 0; i < 3; i++) {
      api.addPod("skein-" + i, "Running", management[i]);
    }
    // Listed, but not running yet: no contact point.
    api.addPod("skein-pending", "Pending", SkeinProcess.freePort());
  }

  @AfterAll
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (api != null) {
      api.close();
    }
    if (sim != null) {
      sim.close();
    }
  }

  private int probe(int node, String path) {
    try {
      return new Http("127.0.0.1", management[node]).get(path).status();
    } catch (Exception e) {
      return -1;
    }
  }

  @Test
  @Order(1)
  void nodesFindEachOtherThroughTheKubernetesApiAndAKilledPodsRecordsContinue() throws Exception {
    cluster.start(0);
    cluster.start(1);
    // Two of the three listed pods answer: no cluster forms, and neither node is ready, though both are alive.
    SkeinProcess.await("both nodes alive", Duration.ofMinutes(2), () -> probe(0, "/alive") == 200 && probe(1, "/alive") == 200, null);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline) {
      assertNotEquals(200, probe(0, "/ready"), "a node is not ready before the cluster has formed");
      assertNotEquals(200, probe(1, "/ready"), "a node is not ready before the cluster has formed");
      Thread.sleep(200);
    }
    assertTrue(cluster.upMembers(0) < 1, "no cluster formed with a listed pod missing: " + cluster.upMembers(0));

    cluster.start(2);
    cluster.awaitUp(3);
    SkeinProcess.await("every node ready", Duration.ofMinutes(1),
        () -> probe(0, "/ready") == 200 && probe(1, "/ready") == 200 && probe(2, "/ready") == 200, null);

    int records = 1500;
    String jobId = submit("k", records, 1000);
    SkeinProcess.await("a third of the calls", Duration.ofMinutes(2), () -> sim.simulator.stats().requests() >= records, null);
    api.removePod("skein-2");
    cluster.nodes[2].kill();
    cluster.awaitSucceeded(jobId, Duration.ofMinutes(5));
    Set<String> ids = new HashSet<>();
    List<JsonNode> rows = cluster.anyLive().get("/jobs/" + jobId + "/results").lines();
    rows.forEach(r -> assertTrue(ids.add(r.get("id").asText()), "id " + r.get("id") + " twice"));
    assertEquals(records, rows.size(), "every record of the killed pod continued elsewhere");
    SkeinProcess.await("the killed pod downed", Duration.ofMinutes(1), () -> cluster.upMembers(0) == 2, null);
  }

  @Test
  @Order(2)
  void aRollingUpdateReplacesEveryPodWithANewJvmAndRepeatsNoCall() throws Exception {
    // The pod killed above comes back as a new pod: it joins the running cluster through the API.
    api.addPod("skein-2-b", "Running", management[2]);
    cluster.start(2);
    cluster.awaitUp(3);
    int records = 6000;
    TestSimulator.Seen before = sim.seen();
    String jobId = submit("r", records, 8);
    SkeinProcess.await("the job under way", Duration.ofMinutes(2), () -> sim.seen().requests() - before.requests() >= 300, null);
    for (int i = 0; i < 3; i++) {
      // As a Deployment's rolling update does: the old pod gets SIGTERM and leaves the list, a new one takes its place.
      cluster.nodes[i].terminate();
      assertTrue(!cluster.alive(i), "SIGTERM stops the node");
      api.removePod(i == 2 ? "skein-2-b" : "skein-" + i);
      api.addPod("skein-" + i + "-new", "Running", management[i]);
      cluster.start(i);
      cluster.awaitUp(3);
      final int node = i;
      SkeinProcess.await("the new pod ready", Duration.ofMinutes(1), () -> probe(node, "/ready") == 200, null);
    }
    JsonNode status = cluster.anyLive().get("/jobs/" + jobId).json();
    assertEquals("running", status.get("state").asText(), "the job outlasted the rolling update: " + status);
    cluster.awaitSucceeded(jobId, Duration.ofMinutes(5));
    assertEquals(records, cluster.anyLive().get("/jobs/" + jobId + "/results").lines().size());
    TestSimulator.Seen after = sim.seen();
    assertEquals(3L * records + (after.faults() - before.faults()), after.requests() - before.requests(),
        "every call was asked once: no pod that was replaced repeated a call");
  }

  /** A job of {@code records} 3-call records; each job's prompts are its own (no answer comes from the cache). */
  private String submit(String prefix, int records, int maxInFlight) throws Exception {
    ObjectNode body = Http.JSON.createObjectNode();
    body.put("spec", """
        name: k8s
        models: {m: {model: sim-small, max_tokens: 20}}
        max_in_flight: %d
        steps:
          - {name: question, model: m, prompt: "Ask about {{ topic }}"}
          - {name: answer, model: m, prompt: "{{ question }}"}
          - {name: tone, model: m, prompt: "Rate the tone of: {{ question }}"}
        """.formatted(maxInFlight));
    ArrayNode list = body.putArray("records");
    for (int i = 0; i < records; i++) {
      list.addObject().put("id", prefix + i).put("topic", prefix + " topic " + i);
    }
    Http.Response r = cluster.http(0).post("/jobs", "application/json", body.toString());
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }
}
