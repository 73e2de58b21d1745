package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.TestDatabases;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Three nodes on PostgreSQL run a 5,000-record, 3-call job while a random node is SIGKILLed and
 * started again ten times, one kill every ~15 s. The job ends with exactly 5,000 rows, no id twice,
 * and the model server was asked no more than the calls the job needs plus those in flight on the
 * victims at their kills (sent, never journaled): nothing else is asked twice.
 */
@Tag("scenario")
class KillLoopTest {

  private static final int RECORDS = 5000;
  private static final int CALLS_PER_RECORD = 3;
  private static final int KILLS = 10;
  private static final Duration EVERY = Duration.ofSeconds(15);

  @Test
  void tenKillsLoseNothingAndRepeatOnlyWhatWasInFlight() throws Exception {
    Assumptions.assumeTrue(TestDatabases.postgresUrl().isPresent(), TestDatabases.PG_SKIP_MESSAGE);
    long seed = Long.getLong("skein.kills.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.println("[kill-loop] seed " + seed + " (replay the same victims: -Dskein.kills.seed=" + seed + ")");
    Path dir = Files.createTempDirectory("skein-kill-loop");
    String dbUrl = TestDatabases.freshPostgresSchema(TestDatabases.postgresUrl().get());
    // Slow enough that the job outlasts ten kills: 30 calls at once at ~400 ms is ~75 calls/s for 15,000 calls.
    try (TestSimulator sim = new TestSimulator(new SimulatorSettings(400, 0.3, 0, 0, 0, 13, 0));
         ClusterFixture cluster = new ClusterFixture(dir, dbUrl, sim, 3, """
             skein.models.providers."sim-small" { base-url = "%s", max-concurrency = 30 }
             """.formatted(sim.simulator.baseUrl()))) {
      cluster.startAll();
      long before = sim.simulator.stats().requests();
      String jobId = submit(cluster.http(0));

      Map<String, Long> lostBefore = new HashMap<>();
      long inFlightAtKills = 0;
      int kills = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(15).toNanos();
      while (kills < KILLS && running(cluster, jobId)) {
        assertTrue(System.nanoTime() < deadline, "the kill loop did not finish in 15 minutes");
        long next = System.nanoTime() + EVERY.toNanos();
        int victim = random.nextInt(3);
        String node = cluster.name(victim);
        cluster.nodes[victim].kill();
        kills++;
        settle(sim, node);
        long lost = sim.simulator.stats().byNode().getOrDefault(node, 0L) - cluster.persistedCallsByNode(jobId).getOrDefault(node, 0L);
        long inFlight = lost - lostBefore.getOrDefault(node, 0L);
        lostBefore.put(node, lost);
        inFlightAtKills += inFlight;
        System.out.printf("[kill-loop] kill %d: %s, %d of its calls were in flight%n", kills, node, inFlight);
        cluster.start(victim);
        cluster.awaitUp(3);
        long wait = next - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000);
        }
      }
      assertEquals(KILLS, kills, "the job outlasted " + KILLS + " kills (else the simulator is too fast for this machine)");

      JsonNode status = awaitEnd(cluster, jobId);
      assertEquals("succeeded", status.get("state").asText(), status.toString());
      List<JsonNode> rows = new ArrayList<>(cluster.anyLive().get("/jobs/" + jobId + "/results").lines());
      rows.addAll(cluster.anyLive().get("/jobs/" + jobId + "/errors").lines());
      Set<String> ids = new HashSet<>();
      rows.forEach(r -> assertTrue(ids.add(r.get("id").asText()), "id " + r.get("id") + " twice"));
      assertEquals(RECORDS, rows.size(), "exactly one row per record");

      long requests = sim.simulator.stats().requests() - before;
      long needed = (long) RECORDS * CALLS_PER_RECORD;
      System.out.printf("[kill-loop] %d requests for %d calls; %d were in flight at the %d kills%n", requests, needed, inFlightAtKills, kills);
      assertTrue(requests >= needed, "every call was made: " + requests);
      assertTrue(requests <= needed + inFlightAtKills,
          "requests " + requests + " > needed " + needed + " + in flight at the kills " + inFlightAtKills);
    }
  }

  private static String submit(Http http) throws Exception {
    ObjectNode body = Http.JSON.createObjectNode();
    body.put("spec", """
        name: kill-loop
        models: {m: {model: sim-small, max_tokens: 30}}
        retry: {max_attempts: 12, initial_backoff: 20ms, max_backoff: 300ms}
        max_in_flight: 400
        steps:
          - {name: question, model: m, prompt: "Ask about {{ topic }}"}
          - {name: answer, model: m, prompt: "{{ question }}"}
          - {name: tone, model: m, prompt: "Rate the tone of: {{ question }}"}
        """);
    ArrayNode list = body.putArray("records");
    for (int i = 0; i < RECORDS; i++) {
      list.addObject().put("id", "k" + i).put("topic", "topic " + i);
    }
    Http.Response r = http.post("/jobs", "application/json", body.toString());
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }

  private static boolean running(ClusterFixture cluster, String jobId) throws Exception {
    return cluster.anyLive().get("/jobs/" + jobId).json().get("state").asText().equals("running");
  }

  /** Waits until the killed node's requests reached the simulator: its count stands still for a second. */
  private static void settle(TestSimulator sim, String node) throws InterruptedException {
    long last = -1;
    long stableSince = System.nanoTime();
    long deadline = stableSince + Duration.ofMinutes(1).toNanos();
    while (System.nanoTime() - stableSince < 1_000_000_000L) {
      assertTrue(System.nanoTime() < deadline, "the killed node's request count never stood still");
      long now = sim.simulator.stats().byNode().getOrDefault(node, 0L);
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      }
      Thread.sleep(20);
    }
  }

  private static JsonNode awaitEnd(ClusterFixture cluster, String jobId) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (true) {
      assertTrue(System.nanoTime() < deadline, "the job did not end within 10 minutes of the last kill");
      JsonNode status = cluster.anyLive().get("/jobs/" + jobId).json();
      if (!status.get("state").asText().equals("running")) {
        return status;
      }
      Thread.sleep(500);
    }
  }
}
