package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code target: N}: a job runs records until N have passed its {@code on_fail: error} checks,
 * starting one more for each that fails; the output is exactly N rows (those of lowest index), the
 * rows that passed beyond them are the {@code extras} dataset, the status says passed, failed and
 * started, and a job whose max_records run out short of N fails saying so, keeping every row.
 */
class TargetTest {

  /** A third of the records draw `bad` and fail the check, after one model call each. */
  static final String SPEC = """
      name: exactly
      seed: 11
      target: 40
      max_records: 120
      max_in_flight: 16
      models: {m: {model: sim-small, max_tokens: 20}}
      steps:
        - {name: mood, kind: sampler, sampler: category, values: [good, good, bad]}
        - {name: line, model: m, prompt: "One {{ mood }} line."}
        - {name: check, kind: validator, validator: regex, target: mood, pattern: "^good$", on_fail: error}
      """;

  @Test
  void theOutputHasExactlyTheRowsAskedForAndWhatPassedBeyondIsKept() throws Exception {
    try (SkeinNode node = TestNodes.withSimulatorLatency("target-test", "20ms")) {
      Http http = new Http(node.httpPort());
      Http.Response created = http.post("/jobs", "application/yaml", SPEC);
      assertEquals(201, created.status(), created.body());
      String id = created.json().get("id").asText();
      JsonNode done = http.awaitState(id, "succeeded", Duration.ofMinutes(2));

      List<JsonNode> rows = http.get("/jobs/" + id + "/results").lines();
      List<JsonNode> errors = http.get("/jobs/" + id + "/errors").lines();
      List<JsonNode> extras = http.get("/jobs/" + id + "/datasets/extras").lines();
      assertEquals(40, rows.size(), "exactly the target: " + done);
      rows.forEach(r -> assertEquals("good", r.get("mood").asText(), r.toString()));
      assertTrue(errors.size() >= 10, "about a third failed and were replaced: " + errors.size());
      errors.forEach(e -> assertEquals("validation_failed", e.at("/error/type").asText(), e.toString()));

      JsonNode target = done.get("target");
      assertEquals(40, target.get("rows").asInt());
      assertEquals(40 + extras.size(), target.get("passed").asInt(), "every passed row is an output row or an extra: " + done);
      assertEquals(errors.size(), target.get("failed").asInt());
      assertEquals(target.get("passed").asInt() + target.get("failed").asInt(), target.get("started").asInt(), "all started have ended");
      assertEquals(120, target.get("max_records").asInt());
      assertTrue(target.get("started").asInt() < 120, "it stopped starting records once the target was met: " + done);

      long lastRow = rows.get(rows.size() - 1).get("id").asLong();
      extras.forEach(e -> assertTrue(e.get("id").asLong() > lastRow, "extras come after the output's rows: " + e));
      List<Long> all = new ArrayList<>();
      rows.forEach(r -> all.add(r.get("id").asLong()));
      extras.forEach(r -> all.add(r.get("id").asLong()));
      assertEquals(all.size(), all.stream().distinct().count(), "no row in both");
    }
  }

  @Test
  void aJobThatRunsOutOfRecordsShortOfItsTargetFailsSayingSoAndKeepsItsRows() throws Exception {
    Path dir = Files.createTempDirectory("skein-target-short");
    Path spec = Files.writeString(dir.resolve("short.yaml"), SPEC.replace("max_records: 120", "max_records: 45"));
    Path out = dir.resolve("short.jsonl");
    try (SkeinProcess p = SkeinProcess.start(dir.resolve("run.log"), Map.of("SKEIN_SIM_LATENCY", "2ms"), "run", spec.toString(),
        "--output", out.toString(), "--data-dir", dir.resolve("data").toString())) {
      assertEquals(1, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains("max_records (45) reached with") && p.output().contains("of the 40 rows `target` asks for passed"),
          p.output());
      assertTrue(p.output().contains("extras (passed beyond target 40): 0 rows"), p.output());
    }
    long rows = Files.readAllLines(out).size();
    long errors = Files.readAllLines(dir.resolve("short.errors.jsonl")).size();
    assertTrue(rows < 40, "short of the target: " + rows);
    assertEquals(45, rows + errors, "every one of the 45 records it could start ended, each kept as a row or an error row");
  }
}
