package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.TestDatabases;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A staged job (topics -> poems, exploded -> judged, filtered) on three nodes in separate JVMs
 * over one PostgreSQL journal, its busiest node SIGKILLed while the third stage runs: every record
 * of every stage ends as exactly one row, the filter drops exactly the rows it should, and the
 * simulator is asked no more than the calls needed plus those the dead node had in flight plus one
 * retry per injected fault.
 */
@Tag("scenario")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StagesClusterTest {

  private static final int RECORDS = 600;
  private static final int PER_TOPIC = 3;
  /** Poems whose id ends in this are filtered out of the judged stage. */
  private static final String DROPPED = "-2";
  private static final long JUDGED = (long) RECORDS * (PER_TOPIC - 1);
  /** One call per record, two per poem, one per judged poem. */
  private static final long NEEDED = RECORDS + 2L * RECORDS * PER_TOPIC + JUDGED;
  private static final String SPEC = """
      name: stages-cluster
      models: {m: {model: sim-small, max_tokens: 30}}
      retry: {max_attempts: 12, initial_backoff: 20ms, max_backoff: 300ms}
      max_in_flight: 300
      stages:
        - name: topics
          steps:
            - name: ideas
              kind: llm-structured
              model: m
              prompt: "Three poem topics about {{ subject }}"
              schema: {type: object, required: [items], properties: {items: {type: array, minItems: 3, maxItems: 3, items: {type: string}}}}
        - name: poems
          explode: {field: ideas.items, as: topic}
          steps:
            - {name: poem, model: m, prompt: "A poem about {{ topic }}"}
            - {name: title, model: m, prompt: "A title for: {{ poem }}"}
        - name: judged
          filter: "id != parent_id ~ '%s'"
          steps:
            - {name: verdict, model: m, prompt: "Rate {{ title }}: {{ poem }}"}
      """.formatted(DROPPED);

  private TestSimulator sim;
  private ClusterFixture cluster;

  @BeforeAll
  void start() throws Exception {
    Assumptions.assumeTrue(TestDatabases.postgresUrl().isPresent(), TestDatabases.PG_SKIP_MESSAGE);
    sim = new TestSimulator(new SimulatorSettings(30, 0.3, 0.01, 0.01, 0.0, 11, 0));
    String dbUrl = TestDatabases.freshPostgresSchema(TestDatabases.postgresUrl().get());
    cluster = new ClusterFixture(Files.createTempDirectory("skein-stages-cluster"), dbUrl, sim, 3, """
        skein.models.providers."sim-small" { base-url = "%s", max-concurrency = 60 }
        """.formatted(sim.simulator.baseUrl()));
    cluster.startAll();
  }

  @AfterAll
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (sim != null) {
      sim.close();
    }
  }

  @Test
  void aNodeKilledInTheThirdStageLosesNothingAndRepeatsOnlyItsCallsInFlight() throws Exception {
    TestSimulator.Seen before = sim.seen();
    String jobId = submit();
    SkeinProcess.await("a third of stage 3's calls journaled", Duration.ofMinutes(3), () -> judgedCalls(jobId) >= JUDGED / 3, null);

    JsonNode judging = stage(cluster.http(0).get("/jobs/" + jobId).json(), "judged");
    assertEquals("running", judging.get("state").asText(), "the kill comes in the middle of stage 3: " + judging);
    int victim = busiestOnStage3();
    String node = cluster.name(victim);
    cluster.nodes[victim].kill();
    TestSimulator.Seen atKill = cluster.afterKill(node);

    JsonNode done = cluster.awaitSucceeded(jobId, Duration.ofMinutes(5));
    for (JsonNode s : done.get("stages")) {
      assertEquals("succeeded", s.get("state").asText(), done.toString());
    }
    List<JsonNode> topics = rows(jobId, "topics");
    StagesCrashTest.assertIds(topics, RECORDS, i -> "s" + i);
    List<JsonNode> poems = rows(jobId, "poems");
    StagesCrashTest.assertIds(poems, RECORDS * PER_TOPIC, i -> "s" + (i / PER_TOPIC) + "-" + (i % PER_TOPIC));
    List<JsonNode> judged = rows(jobId, "judged");
    StagesCrashTest.assertIds(judged, (int) JUDGED, i -> "s" + (i / (PER_TOPIC - 1)) + "-" + (i % (PER_TOPIC - 1)));
    assertEquals(RECORDS, stage(done, "judged").get("skipped").get("filtered").asLong(), "the filter dropped one poem per topic");
    assertEquals(judged, cluster.anyLive().get("/jobs/" + jobId + "/results").lines(), "the last stage's rows are the job's");

    TestSimulator.Seen after = sim.seen();
    long sentByVictim = atKill.from(node) - before.from(node);
    long inFlightOnVictim = sentByVictim - cluster.persistedCallsByNode(jobId).getOrDefault(node, 0L);
    long requests = after.requests() - before.requests();
    long faults = after.faults() - before.faults();
    assertTrue(sentByVictim > 0 && inFlightOnVictim >= 0, "the killed node had made calls: " + sentByVictim);
    assertTrue(requests >= NEEDED, "every call was made: " + requests);
    assertTrue(requests <= NEEDED + inFlightOnVictim + faults, "requests " + requests + " > needed " + NEEDED
        + " + in flight on the killed node " + inFlightOnVictim + " + faults " + faults);
    System.out.printf("[skein] killed %s in stage 3: %d of its calls were in flight, %d requests for %d calls%n",
        node, inFlightOnVictim, requests, NEEDED);
  }

  private String submit() throws Exception {
    ObjectNode body = Http.JSON.createObjectNode();
    body.put("spec", SPEC);
    ArrayNode list = body.putArray("records");
    for (int i = 0; i < RECORDS; i++) {
      list.addObject().put("id", "s" + i).put("subject", "subject number " + i);
    }
    Http.Response r = cluster.http(0).post("/jobs", "application/json", body.toString());
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }

  /** Calls of stage 3 whose answer the journal holds. */
  private long judgedCalls(String jobId) {
    try (Connection c = DriverManager.getConnection(cluster.dbUrl);
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM event_journal WHERE persistence_id LIKE ? "
            + "AND event_ser_manifest LIKE '%CallSucceeded'")) {
      ps.setString(1, "Record|" + jobId + ".judged/%");
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The node running the most records of stage 3, as soon as one runs any: a stage fed by another
   * may have none in flight for a moment, while it waits for its source's next rows.
   */
  private int busiestOnStage3() throws Exception {
    int victim = -1;
    int most = 0;
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (victim < 0 && System.nanoTime() < deadline) {
      for (int i = 0; i < cluster.nodes.length; i++) {
        int n = 0;
        for (JsonNode key : cluster.http(i).get("/cluster/records").json().get("records")) {
          n += key.asText().contains(".judged/") ? 1 : 0;
        }
        if (n > most) {
          most = n;
          victim = i;
        }
      }
      if (victim < 0) {
        Thread.sleep(20);
      }
    }
    assertTrue(victim >= 0, "some node runs records of stage 3 within a minute");
    System.out.printf("[skein] %s runs %d records of stage 3 at the kill%n", cluster.name(victim), most);
    return victim;
  }

  private static JsonNode stage(JsonNode status, String name) {
    for (JsonNode s : status.get("stages")) {
      if (s.get("name").asText().equals(name)) {
        return s;
      }
    }
    throw new AssertionError("no stage " + name + " in " + status);
  }

  /** A stage's rows and error rows. */
  private List<JsonNode> rows(String jobId, String stage) throws Exception {
    List<JsonNode> rows = new ArrayList<>(cluster.anyLive().get("/jobs/" + jobId + "/stages/" + stage + "/results").lines());
    List<JsonNode> errors = cluster.anyLive().get("/jobs/" + jobId + "/stages/" + stage + "/errors").lines();
    assertEquals(List.of(), errors, "no record of stage " + stage + " failed");
    return rows;
  }
}
