package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.deploy.sim.ModelSimulator;
import io.skein.deploy.sim.SimulatorSettings;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A staged local run (topics -> poems -> judged, streaming) SIGKILLed while its second stage runs,
 * then run again with the same command: every record of every stage ends as exactly one row, and
 * the simulator is asked no more than the calls needed plus those in flight at the kill plus one
 * retry per injected fault.
 */
class StagesCrashTest {

  private static final int RECORDS = 150;
  private static final int PER_TOPIC = 3;
  /** One call per record, two per poem, one per judged poem. */
  private static final long NEEDED = RECORDS + 2L * RECORDS * PER_TOPIC + (long) RECORDS * PER_TOPIC;
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String SPEC = """
      name: stages-crash
      models:
        m: {model: sim-small, max_tokens: 30}
      retry: {max_attempts: 12, initial_backoff: 20ms, max_backoff: 200ms}
      max_in_flight: 100
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
          steps:
            - {name: verdict, model: m, prompt: "Rate: {{ poem }}"}
      """;

  private static TestSimulator sim;
  private static ModelSimulator simulator;

  @TempDir
  Path dir;

  @BeforeAll
  static void startSimulator() throws Exception {
    sim = new TestSimulator(new SimulatorSettings(15, 0.3, 0.02, 0.02, 0.0, 11, 0));
    simulator = sim.simulator;
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @Test
  void aRunKilledInItsSecondStageResumesWithExactlyTheRightRows() throws Exception {
    Path spec = dir.resolve("stages.yaml");
    Files.writeString(spec, SPEC);
    Path input = dir.resolve("subjects.jsonl");
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < RECORDS; i++) {
      lines.add("{\"id\": \"s" + i + "\", \"subject\": \"subject number " + i + "\"}");
    }
    Files.write(input, lines);
    Path data = dir.resolve("data");
    Path out = dir.resolve("out.jsonl");
    String[] args = {"run", spec.toString(), "--input", input.toString(), "--output", out.toString(), "--data-dir", data.toString()};
    Map<String, String> env = Map.of("OPENAI_BASE_URL", simulator.baseUrl(), "SKEIN_LOG_LEVEL", "INFO");
    TestSimulator.Seen before = sim.seen();

    try (SkeinProcess first = SkeinProcess.start(dir.resolve("first.log"), env, args)) {
      // Past stage 1's calls and 40% of stage 2's: stage 2 runs (and stage 3 has begun on its rows).
      SkeinProcess.await("stage 2 under way", Duration.ofMinutes(3),
          () -> simulator.stats().requests() - before.requests() >= RECORDS + (2L * RECORDS * PER_TOPIC) * 2 / 5, first);
      first.kill();
    }
    String url = "jdbc:h2:file:" + data.toAbsolutePath().resolve("skein") + ";DB_CLOSE_ON_EXIT=FALSE";
    long atKill = sim.quiet().requests() - before.requests();
    long persisted = CrashRecoveryTest.persistedCalls(url, "");
    assertEquals("running", stageState(url, "poems"), "the kill came in the middle of stage 2");
    assertTrue(persistedCalls(url, ".poems/") > 0, "stage 2 had journaled calls at the kill");

    try (SkeinProcess second = SkeinProcess.start(dir.resolve("second.log"), env, args)) {
      assertEquals(0, second.awaitExit(Duration.ofMinutes(4)), second.output());
      assertTrue(second.output().contains("Resuming job"), "the same command resumes the job:\n" + second.output());
    }
    assertIds(rows(out, "topics"), RECORDS, i -> "s" + i);
    assertIds(rows(out, "poems"), RECORDS * PER_TOPIC, i -> "s" + (i / PER_TOPIC) + "-" + (i % PER_TOPIC));
    List<JsonNode> judged = read(out);
    judged.addAll(read(RunCommand.errorsBeside(out)));
    assertIds(judged, RECORDS * PER_TOPIC, i -> "s" + (i / PER_TOPIC) + "-" + (i % PER_TOPIC));

    TestSimulator.Seen after = sim.seen();
    long requests = after.requests() - before.requests();
    long faults = after.faults() - before.faults();
    long inFlightAtKill = atKill - persisted;
    assertTrue(inFlightAtKill >= 0, "every persisted call was sent: " + inFlightAtKill);
    assertTrue(requests >= NEEDED, "every call was made: " + requests);
    assertTrue(requests <= NEEDED + inFlightAtKill + faults,
        "requests " + requests + " > needed " + NEEDED + " + in flight at the kill " + inFlightAtKill + " + faults " + faults);
  }

  /** A stage's output and error rows, as `skein run` wrote them beside the output. */
  private static List<JsonNode> rows(Path out, String stage) throws Exception {
    Path file = RunCommand.beside(out, "." + stage + ".jsonl");
    List<JsonNode> rows = read(file);
    rows.addAll(read(RunCommand.beside(file, ".errors.jsonl")));
    return rows;
  }

  /** Each row's id once, {@code n} rows, and a row for every id {@code id} names. */
  static void assertIds(List<JsonNode> rows, int n, java.util.function.IntFunction<String> id) {
    Set<String> seen = new HashSet<>();
    rows.forEach(r -> assertTrue(seen.add(r.get("id").asText()), "id " + r.get("id") + " appears twice"));
    assertEquals(n, rows.size());
    for (int i = 0; i < n; i++) {
      assertTrue(seen.contains(id.apply(i)), "no row for " + id.apply(i));
    }
  }

  private static List<JsonNode> read(Path file) throws Exception {
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

  private static String stageState(String url, String stage) throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT state FROM skein_jobs WHERE stage = '" + stage + "'")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static long persistedCalls(String url, String keyPart) throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM \"event_journal\" WHERE \"event_ser_manifest\" LIKE '%CallSucceeded'"
            + " AND \"persistence_id\" LIKE '%" + keyPart + "%'")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
