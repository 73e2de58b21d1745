package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.deploy.sim.ModelSimulator;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A `skein run` of a job with a target, SIGKILLed mid-job and run again: it resumes, every record
 * started before the kill ends, and the output still has exactly the target's rows, with every other
 * passed row in the extras and every failed one an error row, each record once.
 */
class TargetCrashTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SPEC = """
      name: exact-after-crash
      seed: 4
      target: 300
      max_records: 900
      max_in_flight: 120
      models: {m: {model: sim-small, max_tokens: 20}}
      retry: {max_attempts: 12, initial_backoff: 20ms, max_backoff: 200ms}
      steps:
        - {name: mood, kind: sampler, sampler: category, values: [good, good, bad]}
        - {name: line, model: m, prompt: "One {{ mood }} line, number {{ index }}."}
        - {name: check, kind: validator, validator: regex, target: mood, pattern: "^good$", on_fail: error}
      """;

  private static TestSimulator sim;
  private static ModelSimulator simulator;

  @TempDir
  Path dir;

  @BeforeAll
  static void startSimulator() throws Exception {
    sim = new TestSimulator(new SimulatorSettings(20, 0.3, 0.0, 0.0, 0.0, 9, 0));
    simulator = sim.simulator;
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @Test
  void afterAKillTheOutputStillHasExactlyTheTargetsRows() throws Exception {
    Path spec = Files.writeString(dir.resolve("target.yaml"), SPEC);
    Path out = dir.resolve("out.jsonl");
    String[] args = {"run", spec.toString(), "--output", out.toString(), "--data-dir", dir.resolve("data").toString()};
    Map<String, String> env = Map.of("OPENAI_BASE_URL", simulator.baseUrl(), "SKEIN_LOG_LEVEL", "INFO");
    long before = simulator.stats().requests();
    try (SkeinProcess first = SkeinProcess.start(dir.resolve("first.log"), env, args)) {
      SkeinProcess.await("a third of the target's calls", Duration.ofMinutes(3), () -> simulator.stats().requests() - before >= 100, first);
      first.kill();
    }
    try (SkeinProcess second = SkeinProcess.start(dir.resolve("second.log"), env, args)) {
      assertEquals(0, second.awaitExit(Duration.ofMinutes(3)), second.output());
      assertTrue(second.output().contains("Resuming job"), second.output());
    }
    List<JsonNode> rows = read(out);
    List<JsonNode> extras = read(dir.resolve("out.extras.jsonl"));
    List<JsonNode> errors = read(dir.resolve("out.errors.jsonl"));
    assertEquals(300, rows.size(), "exactly the target, after the kill too");
    rows.forEach(r -> assertEquals("good", r.get("mood").asText(), r.toString()));
    extras.forEach(r -> assertEquals("good", r.get("mood").asText(), r.toString()));
    errors.forEach(e -> assertEquals("validation_failed", e.at("/error/type").asText(), e.toString()));
    Set<Long> ids = new HashSet<>();
    for (List<JsonNode> part : List.of(rows, extras, errors)) {
      part.forEach(r -> assertTrue(ids.add(r.get("id").asLong()), "each record once: " + r));
    }
    long started = ids.size();
    assertTrue(started < 900, "it stopped well before max_records: " + started);
    long last = rows.get(rows.size() - 1).get("id").asLong();
    extras.forEach(e -> assertTrue(e.get("id").asLong() > last, "extras follow the output's rows: " + e));
    for (long i = 0; i < started; i++) {
      assertTrue(ids.contains(i), "the records started are 0.." + (started - 1) + " with no gap; missing " + i);
    }
  }

  private static List<JsonNode> read(Path file) throws Exception {
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      rows.add(JSON.readTree(line));
    }
    return rows;
  }
}
