package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The model endpoint answers 503 to everything for 30 s in the middle of a job: records wait
 * without spending their attempts (two would be spent in a second otherwise), the job's status
 * says what it waits for while its counts keep showing the calls made, and the job then completes.
 */
class ProviderOutageTest {

  @Test
  void recordsWaitOutAThirtySecondOutageAndTheStatusSaysSo() throws Exception {
    Path dir = Files.createTempDirectory("skein-outage-test");
    try (TestSimulator sim = new TestSimulator(new SimulatorSettings(20, 0.2, 0, 0, 0, 4, 0))) {
      Path config = dir.resolve("outage.conf");
      Files.writeString(config, "skein.models.providers.\"sim-small\" { base-url = \"" + sim.simulator.baseUrl() + "\" }\n");
      try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0,
          false))) {
        Http http = new Http(node.httpPort());
        String id = submit(http.post("/jobs", "application/yaml", """
            name: outage
            models: {m: {model: sim-small, max_tokens: 20}}
            input: {num_records: 400}
            max_in_flight: 20
            retry: {max_attempts: 2, initial_backoff: 50ms, max_backoff: 1s, pause_after: 5m}
            steps:
              - {name: a, model: m, prompt: "A {{ index }}"}
              - {name: b, model: m, prompt: "B {{ a }}"}
            """));
        JsonNode live = http.awaitStatus(id, "count calls of records still running",
            s -> s.get("calls").asLong() > 2 * s.get("succeeded").asLong() && s.get("calls").asLong() > 0, Duration.ofSeconds(30));
        assertEquals("running", live.get("state").asText(), "counts move before records end: " + live);

        sim.simulator.outage(true);
        long outageEnds = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode waiting = http.awaitStatus(id, "say what it waits for",
            s -> s.path("waiting_for").asText("").contains("model `sim-small` is unavailable (HTTP 503) since"), Duration.ofSeconds(20));
        assertEquals("running", waiting.get("state").asText(), waiting.toString());
        assertTrue(waiting.get("waiting_for").asText().matches(".*\\(\\d+ records? waits?\\)"), waiting.toString());
        long sleep = (outageEnds - System.nanoTime()) / 1_000_000;
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
        JsonNode during = http.get("/jobs/" + id).json();
        assertEquals("running", during.get("state").asText(), "an outage shorter than pause_after neither pauses nor ends the job: " + during);
        assertEquals(0, during.get("failed").asLong(), "no record failed for the outage: " + during);
        long refused = sim.simulator.stats().byStatus().getOrDefault("503", 0L);
        assertTrue(refused > 40, "the records kept asking through the outage: " + refused + " 503s");
        sim.simulator.outage(false);

        JsonNode done = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
        assertEquals(400, done.get("succeeded").asInt(), done.toString());
        assertEquals(0, done.get("failed").asInt(), done.toString());
        assertFalse(done.has("waiting_for"), "an ended job waits for nothing: " + done);
        int waitedThroughMoreThanTheAttempts = 0;
        for (JsonNode row : http.get("/jobs/" + id + "/results?annotated=true").lines()) {
          for (JsonNode call : row.get("calls")) {
            if (call.path("failures").size() > 2) {
              waitedThroughMoreThanTheAttempts++;
            }
          }
        }
        assertTrue(waitedThroughMoreThanTheAttempts > 0, "some calls met more 503s than max_attempts and still succeeded");
      }
    }
  }

  private static String submit(Http.Response r) {
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }
}
