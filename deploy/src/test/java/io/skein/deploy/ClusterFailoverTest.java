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
 * Three nodes in separate JVMs on one PostgreSQL journal. A job keeps running when a node dies,
 * whether it hosted the most records or the job's coordinator: the records continue elsewhere from
 * their last finished call, and the only calls asked twice are those the dead node had in flight.
 * A rolling restart with SIGTERM repeats no call at all.
 */
@Tag("scenario")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFailoverTest {

  private static final int CALLS_PER_RECORD = 3;
  private static final int MAX_CONCURRENCY = 60;

  private TestSimulator sim;
  private ClusterFixture cluster;

  @BeforeAll
  void start() throws Exception {
    Assumptions.assumeTrue(TestDatabases.postgresUrl().isPresent(), TestDatabases.PG_SKIP_MESSAGE);
    Path dir = Files.createTempDirectory("skein-cluster-test");
    sim = new TestSimulator(new SimulatorSettings(30, 0.3, 0.01, 0.01, 0.0, 11, 0));
    String dbUrl = TestDatabases.freshPostgresSchema(TestDatabases.postgresUrl().get());
    cluster = new ClusterFixture(dir, dbUrl, sim, 3, """
        skein.models.providers."sim-small" { base-url = "%s", max-concurrency = %d }
        """.formatted(sim.simulator.baseUrl(), MAX_CONCURRENCY));
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

  private static String spec(int maxInFlight) {
    return """
        name: cluster
        models: {m: {model: sim-small, max_tokens: 30}}
        retry: {max_attempts: 12, initial_backoff: 20ms, max_backoff: 300ms}
        max_in_flight: %d
        steps:
          - {name: question, model: m, prompt: "Ask about {{ topic }}"}
          - {name: answer, model: m, prompt: "{{ question }}"}
          - {name: tone, model: m, prompt: "Rate the tone of: {{ question }}"}
        """.formatted(maxInFlight);
  }

  private String submit(Http http, String prefix, int records, int maxInFlight) throws Exception {
    ObjectNode body = Http.JSON.createObjectNode();
    body.put("spec", spec(maxInFlight));
    ArrayNode list = body.putArray("records");
    for (int i = 0; i < records; i++) {
      list.addObject().put("id", prefix + i).put("topic", prefix + " topic " + i);
    }
    Http.Response r = http.post("/jobs", "application/json", body.toString());
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }

  private void awaitCalls(TestSimulator.Seen before, long calls) throws InterruptedException {
    SkeinProcess.await(calls + " calls", Duration.ofMinutes(3), () -> sim.simulator.stats().requests() - before.requests() >= calls, null);
  }

  private void assertOneRowPerRecord(String jobId, String prefix, int records) throws Exception {
    List<JsonNode> rows = new ArrayList<>(cluster.anyLive().get("/jobs/" + jobId + "/results").lines());
    rows.addAll(cluster.anyLive().get("/jobs/" + jobId + "/errors").lines());
    Set<String> ids = new HashSet<>();
    for (JsonNode row : rows) {
      assertTrue(ids.add(row.get("id").asText()), "id " + row.get("id") + " twice");
      assertTrue(row.get("id").asText().startsWith(prefix));
    }
    assertEquals(records, rows.size());
  }

  /**
   * Kills {@code victim} with SIGKILL mid-job and checks the job's end. Returns how long after the
   * kill the victim's records made progress again.
   */
  private long killAndCheck(String jobId, String prefix, int records, TestSimulator.Seen before, int victim) throws Exception {
    String node = cluster.name(victim);
    List<String> victimRecords = new ArrayList<>();
    cluster.http(victim).get("/cluster/records").json().get("records").forEach(r -> victimRecords.add(r.asText()));
    System.out.printf("[skein] %s runs %d records at the kill%n", node, victimRecords.size());
    long killedAt = System.currentTimeMillis();
    cluster.nodes[victim].kill();
    TestSimulator.Seen atKill = cluster.afterKill(node);

    long resumedAt = -1;
    if (!victimRecords.isEmpty()) {
      List<String> sample = victimRecords.subList(0, Math.min(300, victimRecords.size()));
      long deadline = System.currentTimeMillis() + 120_000;
      while (resumedAt < 0 && System.currentTimeMillis() < deadline) {
        long last = cluster.lastWrite(sample);
        if (last > killedAt) {
          resumedAt = last;
        }
        Thread.sleep(100);
      }
    }
    cluster.awaitSucceeded(jobId, Duration.ofMinutes(5));
    assertOneRowPerRecord(jobId, prefix, records);

    TestSimulator.Seen after = sim.seen();
    long persistedByVictim = cluster.persistedCallsByNode(jobId).getOrDefault(node, 0L);
    long sentByVictim = atKill.from(node) - before.from(node);
    long inFlightOnVictim = sentByVictim - persistedByVictim;
    long needed = (long) records * CALLS_PER_RECORD;
    long requests = after.requests() - before.requests();
    long faults = after.faults() - before.faults();
    assertTrue(sentByVictim > 0 && inFlightOnVictim >= 0, "sent " + sentByVictim + ", persisted " + persistedByVictim);
    assertTrue(requests >= needed, "every call was made: " + requests);
    assertTrue(requests <= needed + inFlightOnVictim + faults, "requests " + requests + " > needed " + needed
        + " + in flight on the killed node " + inFlightOnVictim + " + faults " + faults);
    System.out.printf("[skein] killed %s: %d of its calls were in flight; its records made progress again after %d ms%n",
        node, inFlightOnVictim, resumedAt < 0 ? -1 : resumedAt - killedAt);

    cluster.start(victim);
    cluster.awaitUp(3);
    return resumedAt < 0 ? -1 : resumedAt - killedAt;
  }

  @Test
  @Order(1)
  void killingTheNodeWithTheMostRecordsLosesNothing() throws Exception {
    int records = 5000;
    TestSimulator.Seen before = sim.seen();
    String jobId = submit(cluster.http(1), "k", records, 600);
    awaitCalls(before, records * CALLS_PER_RECORD * 3L / 10);

    JsonNode members = cluster.http(1).get("/cluster").json().get("members");
    int victim = -1;
    int most = -1;
    for (JsonNode m : members) {
      if (m.get("records").asInt() > most) {
        most = m.get("records").asInt();
        victim = cluster.indexOf(m.get("node").asText());
      }
    }
    assertTrue(most > 0, "records run on the nodes: " + members);
    System.out.println("[skein] members at the kill: " + members);
    for (JsonNode m : members) {
      // Asked of one node, every node says how its gateway to the model stands.
      assertTrue(m.path("models").toString().contains("\"model\":\"sim-small\""), "each node's gateways: " + m);
    }
    long maxInFlight = sim.simulator.stats().maxInFlight();
    assertTrue(maxInFlight <= MAX_CONCURRENCY,
        "the model's limit of " + MAX_CONCURRENCY + " calls in flight holds for the whole cluster: " + maxInFlight);
    long recovery = killAndCheck(jobId, "k", records, before, victim);
    assertTrue(recovery > 0, "the killed node's records made progress again");
  }

  @Test
  @Order(2)
  void killingTheCoordinatorsNodeNeitherStopsNorRestartsTheJob() throws Exception {
    int records = 5000;
    TestSimulator.Seen before = sim.seen();
    String jobId = submit(cluster.http(0), "c", records, 600);
    awaitCalls(before, records * CALLS_PER_RECORD * 3L / 10);
    JsonNode status = cluster.http(0).get("/jobs/" + jobId).json();
    assertTrue(status.has("coordinator"), status.toString());
    int victim = cluster.indexOf(status.get("coordinator").asText());
    killAndCheck(jobId, "c", records, before, victim);
  }

  @Test
  @Order(3)
  void aRollingRestartRepeatsNoCall() throws Exception {
    int records = 6000;
    TestSimulator.Seen before = sim.seen();
    String jobId = submit(cluster.http(2), "r", records, 8);
    awaitCalls(before, 300);
    for (int i = 0; i < 3; i++) {
      cluster.nodes[i].terminate();
      assertTrue(!cluster.alive(i), "SIGTERM stops the node");
      cluster.awaitUp(2);
      cluster.start(i);
      cluster.awaitUp(3);
    }
    JsonNode status = cluster.anyLive().get("/jobs/" + jobId).json();
    assertEquals("running", status.get("state").asText(), "the job outlasted the rolling restart: " + status);
    cluster.awaitSucceeded(jobId, Duration.ofMinutes(5));
    assertOneRowPerRecord(jobId, "r", records);
    TestSimulator.Seen after = sim.seen();
    assertEquals((long) records * CALLS_PER_RECORD + (after.faults() - before.faults()), after.requests() - before.requests(),
        "every call was asked once, plus one retry per injected fault");
  }

  /**
   * A batch of 5,000 lines, uploaded and followed with the official openai-java SDK, outlives the
   * SIGKILL of the node running most of its records: every custom_id comes back exactly once, in
   * the output file or (the 50 lines the model refuses) the error file.
   */
  @Test
  @Order(4)
  void aBatchOutlivesANodeKillWithOneLinePerCustomId(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    int lines = 5000;
    StringBuilder file = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      file.append("{\"custom_id\": \"b-").append(i).append("\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\",")
          .append(" \"body\": {\"model\": \"sim-small\", \"max_tokens\": ").append(i % 100 == 0 ? 0 : 30)
          .append(", \"messages\": [{\"role\": \"user\", \"content\": \"Batch question ").append(i).append("\"}]}}\n");
    }
    Path input = Files.writeString(dir.resolve("batch.jsonl"), file);
    TestSimulator.Seen before = sim.seen();
    String batchId;
    var first = sdk(1);
    try {
      var uploaded = first.files().create(com.openai.models.files.FileCreateParams.builder().file(input)
          .purpose(com.openai.models.files.FilePurpose.BATCH).build());
      batchId = first.batches().create(com.openai.models.batches.BatchCreateParams.builder().inputFileId(uploaded.id())
          .endpoint(com.openai.models.batches.BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
          .completionWindow(com.openai.models.batches.BatchCreateParams.CompletionWindow._24H).build()).id();
    } finally {
      first.close();
    }
    awaitCalls(before, lines * 3L / 10);
    int victim = -1;
    int most = -1;
    for (JsonNode m : cluster.http(1).get("/cluster").json().get("members")) {
      if (m.get("records").asInt() > most) {
        most = m.get("records").asInt();
        victim = cluster.indexOf(m.get("node").asText());
      }
    }
    assertTrue(most > 0, "the batch's records run on the nodes");
    cluster.nodes[victim].kill();
    System.out.printf("[skein] killed %s while it ran %d of the batch's records%n", cluster.name(victim), most);
    int live = victim == 0 ? 1 : 0;
    com.openai.models.batches.Batch done;
    var client = sdk(live);
    try {
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (true) {
        done = client.batches().retrieve(batchId).validate();
        if (done.status().equals(com.openai.models.batches.Batch.Status.COMPLETED)) {
          break;
        }
        assertTrue(System.nanoTime() < deadline, "the batch did not complete within 5 minutes: " + done);
        Thread.sleep(200);
      }
      assertEquals(lines, done.requestCounts().orElseThrow().total());
      assertEquals(lines / 100, done.requestCounts().orElseThrow().failed());
      Set<String> seen = new HashSet<>();
      int errors = 0;
      for (String fileId : List.of(done.outputFileId().orElseThrow(), done.errorFileId().orElseThrow())) {
        String text;
        try (var response = client.files().content(fileId); var body = response.body()) {
          text = new String(body.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        for (String l : text.split("\n")) {
          JsonNode line = Http.JSON.readTree(l);
          String id = line.get("custom_id").asText();
          assertTrue(seen.add(id), id + " came back twice");
          if (fileId.equals(done.errorFileId().orElseThrow())) {
            errors++;
            assertEquals(0, Integer.parseInt(id.substring(2)) % 100, "only the refused lines fail: " + line);
            assertEquals(400, line.at("/response/status_code").asInt(), line.toString());
          } else {
            assertEquals(200, line.at("/response/status_code").asInt(), line.toString());
          }
        }
      }
      assertEquals(lines, seen.size(), "every custom_id came back");
      assertEquals(lines / 100, errors);
    } finally {
      client.close();
    }
    cluster.start(victim);
    cluster.awaitUp(3);
  }

  private com.openai.client.OpenAIClient sdk(int node) {
    return com.openai.client.okhttp.OpenAIOkHttpClient.builder().baseUrl("http://" + cluster.hosts[node] + ":" + cluster.httpPorts[node] + "/v1")
        .apiKey("sk-unused").maxRetries(0).build();
  }
}
