package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline of the new step kinds (samplers, a structured step whose first answers are often
 * broken, so records sit inside correction loops, and three samples of a text step) is SIGKILLed
 * mid-job and run again. Every record ends as one row; no call whose answer or failure was
 * journaled is sent again (correction turns and samples included); each structured step's turns
 * run 0..k without a gap or a repeat; and sampled values are those a run without a crash draws.
 */
class KindsCrashTest {

  private static final int RECORDS = 300;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SPEC = """
      name: kinds-crash
      seed: 5
      models:
        m: {model: sim-small, max_tokens: 30}
      retry: {max_attempts: 12, initial_backoff: 20ms, max_backoff: 200ms}
      max_in_flight: 100
      input: {num_records: %d}
      steps:
        - {name: category, kind: sampler, sampler: category, values: [tools, toys, books], weights: [3, 2, 1]}
        - {name: customer, kind: sampler, sampler: person, age_range: [20, 70]}
        - name: product
          kind: llm-structured
          model: m
          prompt: "Invent a product in {{ category }} for {{ customer.first_name }}."
          schema: {type: object, required: [name, price], properties: {name: {type: string}, price: {type: integer, minimum: 1, maximum: 500}}}
          max_correction_steps: 3
          max_restarts: 3
        - {name: pitches, model: m, prompt: "Pitch {{ product.name }}", n: 3}
      """.formatted(RECORDS);

  private static TestSimulator sim;

  @TempDir
  Path dir;

  @BeforeAll
  static void startSimulator() throws Exception {
    sim = new TestSimulator(new SimulatorSettings(25, 0.3, 0.0, 0.0, 0.0, 9, 0).withAnswers(new SimulatorSettings.Answers(0.6, 0, false)));
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @Test
  void aKilledRunOfStepKindsRepeatsNoJournaledCall() throws Exception {
    Path spec = dir.resolve("kinds.yaml");
    Files.writeString(spec, SPEC);
    Path data = dir.resolve("data");
    Path out = dir.resolve("out.jsonl");
    Map<String, String> env = Map.of("OPENAI_BASE_URL", sim.simulator.baseUrl());
    String[] args = {"run", spec.toString(), "--output", out.toString(), "--data-dir", data.toString(), "--annotated", "--quiet"};
    long before = sim.simulator.stats().requests();
    String db = "jdbc:h2:file:" + data.toAbsolutePath().resolve("skein") + ";DB_CLOSE_ON_EXIT=FALSE";

    try (SkeinProcess first = SkeinProcess.start(dir.resolve("first.log"), env, args)) {
      SkeinProcess.await("a third of the calls", Duration.ofMinutes(3),
          () -> sim.simulator.stats().requests() - before >= RECORDS * 5L / 3, first);
      first.kill();
    }
    long atKill = quietRequests() - before;
    long persistedAtKill = CrashRecoveryTest.persistedCalls(db, "");
    try (SkeinProcess second = SkeinProcess.start(dir.resolve("second.log"), env, args)) {
      assertEquals(0, second.awaitExit(Duration.ofMinutes(4)), second.output());
    }
    long requests = sim.simulator.stats().requests() - before;
    long persisted = CrashRecoveryTest.persistedCalls(db, "");
    assertTrue(persistedAtKill > 0 && atKill >= persistedAtKill, "killed mid-job: " + persistedAtKill + " of " + atKill);
    assertTrue(requests - persisted <= atKill - persistedAtKill,
        "sent again after the restart: " + (requests - persisted) + " requests never journaled, but only "
            + (atKill - persistedAtKill) + " were in flight at the kill");

    List<JsonNode> rows = lines(out);
    assertEquals(RECORDS, rows.size(), "every record one output row");
    int corrected = 0;
    for (JsonNode row : rows) {
      Map<String, List<Integer>> turns = new HashMap<>();
      Set<String> calls = new HashSet<>();
      for (JsonNode call : row.get("calls")) {
        String key = call.get("step").asText() + "#" + call.path("sample").asInt();
        assertTrue(calls.add(key + "." + call.path("turn").asInt()), "call made twice in " + row.get("id"));
        turns.computeIfAbsent(key, k -> new ArrayList<>()).add(call.path("turn").asInt());
      }
      List<Integer> product = turns.get("product#0");
      for (int t = 0; t < product.size(); t++) {
        assertEquals(t, product.get(t), "turns without a gap: " + turns);
      }
      corrected += product.size() > 1 ? 1 : 0;
      assertEquals(3, row.get("pitches").size());
      assertTrue(row.at("/product/price").asInt() >= 1, row.toString());
    }
    assertTrue(corrected > RECORDS / 3, "many records went through a correction: " + corrected);

    // The same spec, anew and without a crash, draws the same samples for every record.
    Path clean = dir.resolve("clean.jsonl");
    try (SkeinProcess again = SkeinProcess.start(dir.resolve("clean.log"), env,
        "run", spec.toString(), "--output", clean.toString(), "--data-dir", dir.resolve("data2").toString(), "--quiet")) {
      assertEquals(0, again.awaitExit(Duration.ofMinutes(4)), again.output());
    }
    Map<String, JsonNode> drawn = new HashMap<>();
    lines(clean).forEach(r -> drawn.put(r.get("id").asText(), r));
    for (JsonNode row : rows) {
      JsonNode other = drawn.get(row.get("id").asText());
      assertEquals(other.get("category"), row.get("category"));
      assertEquals(other.get("customer"), row.get("customer"));
    }
  }

  /** The request count once the killed node's last requests have drained. */
  private static long quietRequests() throws InterruptedException {
    long last = -1;
    long stableSince = System.nanoTime();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      var stats = sim.simulator.stats();
      if (stats.requests() != last || stats.inFlight() > 0) {
        last = stats.requests();
        stableSince = System.nanoTime();
      } else if (System.nanoTime() - stableSince > 500_000_000L) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the simulator kept getting requests 30 s after the kill");
  }

  private static List<JsonNode> lines(Path file) throws Exception {
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (!line.isBlank()) {
        rows.add(JSON.readTree(line));
      }
    }
    return rows;
  }
}
