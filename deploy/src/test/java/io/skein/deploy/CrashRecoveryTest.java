package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.TestDatabases;
import io.skein.deploy.sim.ModelSimulator;
import io.skein.deploy.sim.SimulatorSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node in its own JVM runs a 2,000-record, 3-call job against the simulator, is SIGKILLed mid-job
 * and started again on the same data. The job must end with exactly one row per record, and the
 * simulator must have been asked no more than the calls needed, plus the calls that were in flight
 * (sent but not yet persisted) at the kill, plus one retry per injected fault.
 */
class CrashRecoveryTest {

  private static final int RECORDS = 2000;
  private static final int CALLS_PER_RECORD = 3;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SPEC = """
      name: crash
      models:
        m: {model: sim-small, max_tokens: 30}
      retry: {max_attempts: 12, initial_backoff: 20ms, max_backoff: 200ms}
      max_in_flight: 300
      steps:
        - name: question
          model: m
          prompt: "Ask about {{ topic }}"
        - name: answer
          model: m
          prompt: "{{ question }}"
        - name: tone
          model: m
          prompt: "Rate the tone of: {{ question }}"
      """;

  private static TestSimulator sim;
  private static ModelSimulator simulator;
  private static final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path dir;

  @BeforeAll
  static void startSimulator() throws Exception {
    // Latency > 0 keeps calls in flight at the kill; 2% 429 and 2% 500 exercise retries across it.
    sim = new TestSimulator(new SimulatorSettings(15, 0.3, 0.02, 0.02, 0.0, 7, 0));
    simulator = sim.simulator;
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  private Path input() throws Exception {
    Path file = dir.resolve("records.jsonl");
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < RECORDS; i++) {
      lines.add("{\"id\": \"rec-" + i + "\", \"topic\": \"topic number " + i + "\"}");
    }
    Files.write(file, lines);
    return file;
  }

  private Map<String, String> env() {
    return Map.of("OPENAI_BASE_URL", simulator.baseUrl(), "SKEIN_LOG_LEVEL", "INFO");
  }

  @Test
  void aKilledLocalRunResumesOnH2WithoutRepeatingFinishedCalls() throws Exception {
    Path spec = dir.resolve("crash.yaml");
    Files.writeString(spec, SPEC);
    Path input = input();
    Path data = dir.resolve("data");
    Path out = dir.resolve("out.jsonl");
    String[] args = {"run", spec.toString(), "--input", input.toString(), "--output", out.toString(),
        "--data-dir", data.toString()};
    TestSimulator.Seen before = sim.seen();

    try (SkeinProcess first = SkeinProcess.start(dir.resolve("first.log"), env(), args)) {
      SkeinProcess.await("40% of the calls", Duration.ofMinutes(3),
          () -> simulator.stats().requests() - before.requests() >= RECORDS * CALLS_PER_RECORD * 2 / 5, first);
      first.kill();
    }
    TestSimulator.Seen atKill = sim.quiet();
    long persisted = persistedCalls("jdbc:h2:file:" + data.toAbsolutePath().resolve("skein") + ";DB_CLOSE_ON_EXIT=FALSE", "");
    long inFlightAtKill = atKill.requests() - before.requests() - persisted;

    try (SkeinProcess second = SkeinProcess.start(dir.resolve("second.log"), env(), args)) {
      assertEquals(0, second.awaitExit(Duration.ofMinutes(4)), second.output());
      assertTrue(second.output().contains("Resuming job"), "the same command resumes the job:\n" + second.output());
    }
    List<JsonNode> rows = readRows(out);
    rows.addAll(readRows(RunCommand.errorsBeside(out)));
    assertExactlyOneRowPerRecord(rows);
    assertNoFinishedCallRepeated(before, inFlightAtKill, persisted);
  }

  @Test
  void aKilledNodeResumesItsJobOnPostgres() throws Exception {
    Assumptions.assumeTrue(TestDatabases.postgresUrl().isPresent(), TestDatabases.PG_SKIP_MESSAGE);
    String dbUrl = TestDatabases.freshPostgresSchema(TestDatabases.postgresUrl().get());
    int httpPort = SkeinProcess.freePort();
    String[] args = {"node", "--data-dir", dir.resolve("data").toString(), "--db-url", dbUrl,
        "--port", String.valueOf(SkeinProcess.freePort()), "--http-port", String.valueOf(httpPort), "--no-simulator"};
    TestSimulator.Seen before = sim.seen();
    String jobId;
    try (SkeinProcess first = SkeinProcess.start(dir.resolve("first.log"), env(), args)) {
      SkeinProcess.await("the node's HTTP API", Duration.ofMinutes(2), () -> get(httpPort, "/health") != null, first);
      jobId = submit(httpPort);
      SkeinProcess.await("40% of the calls", Duration.ofMinutes(3),
          () -> simulator.stats().requests() - before.requests() >= RECORDS * CALLS_PER_RECORD * 2 / 5, first);
      first.kill();
    }
    TestSimulator.Seen atKill = sim.quiet();
    long persisted = persistedCalls(dbUrl, jobId);
    long inFlightAtKill = atKill.requests() - before.requests() - persisted;

    try (SkeinProcess second = SkeinProcess.start(dir.resolve("second.log"), env(), args)) {
      SkeinProcess.await("the job to succeed after the restart", Duration.ofMinutes(4), () -> {
        JsonNode status = get(httpPort, "/jobs/" + jobId);
        return status != null && status.get("state").asText().equals("succeeded");
      }, second);
      JsonNode status = get(httpPort, "/jobs/" + jobId);
      assertEquals(RECORDS, status.get("succeeded").asLong() + status.get("failed").asLong());
      List<JsonNode> rows = ndjson(httpPort, "/jobs/" + jobId + "/results");
      rows.addAll(ndjson(httpPort, "/jobs/" + jobId + "/errors"));
      assertExactlyOneRowPerRecord(rows);
      second.terminate();
    }
    assertNoFinishedCallRepeated(before, inFlightAtKill, persisted);
  }

  private void assertExactlyOneRowPerRecord(List<JsonNode> rows) {
    Set<String> ids = new HashSet<>();
    for (JsonNode row : rows) {
      assertTrue(ids.add(row.get("id").asText()), "id " + row.get("id") + " appears twice");
    }
    assertEquals(RECORDS, rows.size());
    for (int i = 0; i < RECORDS; i++) {
      assertTrue(ids.contains("rec-" + i), "no row for rec-" + i);
    }
  }

  private void assertNoFinishedCallRepeated(TestSimulator.Seen before, long inFlightAtKill, long persistedAtKill) {
    TestSimulator.Seen after = sim.seen();
    long requests = after.requests() - before.requests();
    long faults = after.faults() - before.faults();
    long needed = (long) RECORDS * CALLS_PER_RECORD;
    assertTrue(persistedAtKill > 0, "the kill came after some calls were persisted");
    assertTrue(inFlightAtKill >= 0, "every persisted call was sent: " + inFlightAtKill);
    assertTrue(requests >= needed, "every call was made: " + requests);
    assertTrue(requests <= needed + inFlightAtKill + faults,
        "requests " + requests + " > needed " + needed + " + in flight at the kill " + inFlightAtKill + " + faults " + faults);
  }

  /** Calls whose answer or failure reached the journal: the only ones the restarted node may skip. */
  static long persistedCalls(String url, String jobId) throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      String table = url.startsWith("jdbc:h2:") ? "\"event_journal\"" : "event_journal";
      String column = url.startsWith("jdbc:h2:") ? "\"event_ser_manifest\"" : "event_ser_manifest";
      String pid = url.startsWith("jdbc:h2:") ? "\"persistence_id\"" : "persistence_id";
      try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table + " WHERE (" + column + " LIKE '%CallSucceeded' OR "
          + column + " LIKE '%CallFailed') AND " + pid + " LIKE 'Record|" + jobId + "%'")) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private String submit(int port) throws Exception {
    ObjectNode body = JSON.createObjectNode();
    body.put("spec", SPEC);
    ArrayNode records = body.putArray("records");
    for (int i = 0; i < RECORDS; i++) {
      records.addObject().put("id", "rec-" + i).put("topic", "topic number " + i);
    }
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jobs"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(201, response.statusCode(), response.body());
    return JSON.readTree(response.body()).get("id").asText();
  }

  private static JsonNode get(int port, String path) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (Exception e) {
      return null;
    }
  }

  private static List<JsonNode> ndjson(int port, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    List<JsonNode> rows = new ArrayList<>();
    for (String line : r.body().split("\n")) {
      if (!line.isBlank()) {
        rows.add(JSON.readTree(line));
      }
    }
    return rows;
  }

  private static List<JsonNode> readRows(Path file) throws Exception {
    List<JsonNode> rows = new ArrayList<>();
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file)) {
        if (!line.isBlank()) {
          rows.add(JSON.readTree(line));
        }
      }
    }
    return rows;
  }
}
