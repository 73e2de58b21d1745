package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.TestDatabases;
import io.skein.deploy.sim.SimulatorSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Three nodes in network namespaces; one is cut off from the other two while it still reaches the
 * database and the models. The split brain resolver downs the minority, no record runs on two
 * nodes at once (no journal sequence conflict, no row twice, no call asked twice beyond what was in
 * flight on the cut node), and the job completes after healing.
 */
@Tag("scenario")
class PartitionTest {

  @Test
  void theMinorityIsDownedAndNoRecordRunsTwice() throws Exception {
    Assumptions.assumeTrue(TestDatabases.postgresUrl().isPresent(), TestDatabases.PG_SKIP_MESSAGE);
    var unavailable = NetworkNamespaces.unavailable();
    Assumptions.assumeTrue(unavailable.isEmpty(),
        "partition test skipped: network namespaces cannot be made here (needs root and iproute2): " + unavailable.orElse(""));
    String base = TestDatabases.postgresUrl().get();
    URI pg = URI.create(base.substring("jdbc:".length()));
    String schemaUrl = TestDatabases.freshPostgresSchema(base);
    Path dir = Files.createTempDirectory("skein-partition-test");
    int records = 3000;

    try (NetworkNamespaces net = NetworkNamespaces.create(3);
        TcpProxy proxy = new TcpProxy(net.hostIp(), pg.getHost(), pg.getPort() < 0 ? 5432 : pg.getPort());
        TestSimulator sim = new TestSimulator(new SimulatorSettings(30, 0.3, 0.01, 0.01, 0, 21, 0), net.hostIp())) {
      String dbUrl = schemaUrl.replace(pg.getHost() + ":" + pg.getPort(), net.hostIp() + ":" + proxy.port());
      String[] hosts = {net.ip(0), net.ip(1), net.ip(2)};
      try (ClusterFixture cluster = new ClusterFixture(dir, dbUrl, sim, 3, "", hosts, List.of(net.exec(0), net.exec(1), net.exec(2)))) {
        cluster.startAll();
        var before = sim.simulator.stats();
        ObjectNode body = Http.JSON.createObjectNode();
        body.put("spec", """
            name: partition
            models: {m: {model: sim-small, max_tokens: 30}}
            retry: {max_attempts: 12, initial_backoff: 20ms, max_backoff: 300ms}
            max_in_flight: 300
            steps:
              - {name: question, model: m, prompt: "Ask about {{ topic }}"}
              - {name: answer, model: m, prompt: "{{ question }}"}
              - {name: tone, model: m, prompt: "Rate the tone of: {{ question }}"}
            """);
        ArrayNode list = body.putArray("records");
        for (int i = 0; i < records; i++) {
          list.addObject().put("id", "p" + i).put("topic", "partition topic " + i);
        }
        Http.Response submitted = cluster.http(0).post("/jobs", "application/json", body.toString());
        assertEquals(201, submitted.status(), submitted.body());
        String jobId = submitted.json().get("id").asText();
        SkeinProcess.await("30% of the calls", Duration.ofMinutes(3),
            () -> sim.simulator.stats().requests() - before.requests() >= records * 3L * 3 / 10, null);

        int minority = 2;
        net.cut(minority);
        SkeinProcess.await("the cut node to down itself and exit", Duration.ofMinutes(2), () -> !cluster.alive(minority), null);
        cluster.awaitUp(2);
        assertTrue(cluster.upMembers(0) == 2, "the majority removed the minority");

        SkeinProcess.await("the job to succeed on the majority", Duration.ofMinutes(5), () -> {
          try {
            return cluster.http(0).get("/jobs/" + jobId).json().get("state").asText().equals("succeeded");
          } catch (Exception e) {
            return false;
          }
        }, null);

        net.heal(minority);
        cluster.start(minority);
        cluster.awaitUp(3);

        List<JsonNode> rows = new ArrayList<>(cluster.http(minority).get("/jobs/" + jobId + "/results").lines());
        rows.addAll(cluster.http(minority).get("/jobs/" + jobId + "/errors").lines());
        Set<String> ids = new HashSet<>();
        rows.forEach(r -> assertTrue(ids.add(r.get("id").asText()), "row " + r.get("id") + " twice"));
        assertEquals(records, rows.size());

        try (var logs = Files.list(dir)) {
          for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
            String text = Files.readString(log);
            assertFalse(text.contains("duplicate key value") || text.contains("Failed to persist event"),
                "a record was persisted by two nodes at once (" + log.getFileName() + ")");
          }
        }
        var after = sim.simulator.stats();
        long faults = after.byStatus().entrySet().stream().filter(e -> !e.getKey().equals("200")).mapToLong(e -> e.getValue()).sum()
            - before.byStatus().entrySet().stream().filter(e -> !e.getKey().equals("200")).mapToLong(e -> e.getValue()).sum();
        String cut = cluster.name(minority);
        long sentByCut = after.byNode().getOrDefault(cut, 0L) - before.byNode().getOrDefault(cut, 0L);
        long persistedByCut = cluster.persistedCallsByNode(jobId).getOrDefault(cut, 0L);
        long requests = after.requests() - before.requests();
        assertTrue(requests <= records * 3L + (sentByCut - persistedByCut) + faults, "requests " + requests + " > needed "
            + records * 3L + " + in flight on the cut node " + (sentByCut - persistedByCut) + " + faults " + faults);
      }
    }
  }
}
