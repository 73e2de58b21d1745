package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /jobs/{id}/retry-failed} against a node in its own JVM: a job whose second model broke
 * for a while ends with error rows; the retry sends only the calls those records had not answered
 * (the first model hears nothing), survives a SIGKILL of the node while it runs, and ends with every
 * error row replaced and the job's counts and calls those of the ledger.
 */
class RetryFailedTest {

  private static final int RECORDS = 120;

  private static final String SPEC = """
      name: retried
      models:
        asker: {model: sim-small, max_tokens: 20}
        answerer: {model: sim-large, max_tokens: 20}
      input: {num_records: %d}
      max_in_flight: 20
      cache: false
      retry: {max_attempts: 2, initial_backoff: 10ms, max_backoff: 20ms, pause_after: 10m}
      steps:
        - {name: question, model: asker, prompt: "Ask about topic {{ index }}"}
        - {name: answer, model: answerer, prompt: "Answer: {{ question }}"}
      """.formatted(RECORDS);

  @Test
  void failedRecordsRunAgainFromTheirLastAnsweredCallThroughACrash(@TempDir Path dir) throws Exception {
    SimulatorSettings quick = new SimulatorSettings(5, 0, 0, 0, 0, 1, 1);
    try (TestSimulator asker = new TestSimulator(quick); TestSimulator answerer = new TestSimulator(quick)) {
      Path config = Files.writeString(dir.resolve("providers.conf"), """
          skein.models.providers."sim-small" { base-url = "%s" }
          skein.models.providers."sim-large" { base-url = "%s" }
          """.formatted(asker.simulator.baseUrl(), answerer.simulator.baseUrl()));
      int httpPort = SkeinProcess.freePort();
      String[] args = {"node", "--data-dir", dir.resolve("data").toString(), "--config", config.toString(),
          "--port", String.valueOf(SkeinProcess.freePort()), "--http-port", String.valueOf(httpPort), "--no-simulator"};
      Http http = new Http(httpPort);
      String id;
      long failed;
      long askerCalls;
      long answererCalls;
      try (SkeinProcess node = SkeinProcess.start(dir.resolve("first.log"), Map.of(), args)) {
        SkeinProcess.await("the node's HTTP API", Duration.ofMinutes(2), () -> healthy(http), node);
        // The second model answers 500 to everything until 20 records have failed for it, then recovers.
        answerer.simulator.failing(true);
        id = http.submitJob(SPEC, null);
        http.awaitStatus(id, "fail 20 records", s -> s.get("failed").asInt() >= 20, Duration.ofMinutes(2));
        answerer.simulator.failing(false);
        JsonNode ended = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
        failed = ended.get("failed").asLong();
        assertEquals(RECORDS, ended.get("succeeded").asLong() + failed, ended.toString());
        List<JsonNode> errors = http.get("/jobs/" + id + "/errors").lines();
        assertEquals(failed, errors.size());
        errors.forEach(e -> assertEquals("server_error", e.at("/error/type").asText(), e.toString()));
        assertEquals(409, http.post("/jobs/" + id + "/pause", "application/json", "").status(), "an ended job has nothing to pause");
        askerCalls = requests(asker);
        answererCalls = requests(answerer);
        assertEquals(RECORDS, askerCalls, "one question per record");

        // The retry, with the second model down: the retried records wait for it (503s spend no attempt) while the node is killed.
        answerer.simulator.outage(true);
        Http.Response retried = http.post("/jobs/" + id + "/retry-failed", "application/json", "");
        assertEquals(200, retried.status(), retried.body());
        assertEquals("running", retried.json().get("state").asText(), retried.body());
        assertTrue(!retried.json().has("finished_at"), "a job running again has not finished: " + retried.body());
        JsonNode running = http.awaitStatus(id, "run the failed records again", s -> s.get("in_flight").asInt() > 0, Duration.ofMinutes(1));
        assertEquals(RECORDS - failed, running.get("succeeded").asLong(), "the error rows retried are not counted while they run");
        assertEquals(0, running.get("failed").asLong(), running.toString());
        assertTrue(running.get("calls").asLong() >= ended.get("calls").asLong()
            && running.get("cost_usd").decimalValue().compareTo(ended.get("cost_usd").decimalValue()) >= 0,
            "what the retried records had spent still counts while they run: " + running + " after " + ended);
        assertEquals(409, http.post("/jobs/" + id + "/retry-failed", "application/json", "").status(), "a running job is not retried");
        http.awaitStatus(id, "meet the outage", s -> s.path("waiting_for").asText("").contains("unavailable"), Duration.ofMinutes(1));
        node.kill();
      }

      answerer.simulator.outage(false);
      long refusedDuringOutage = status(answerer, "503");
      try (SkeinProcess node = SkeinProcess.start(dir.resolve("second.log"), Map.of(), args)) {
        SkeinProcess.await("the node's HTTP API", Duration.ofMinutes(2), () -> healthy(http), node);
        JsonNode done = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
        assertEquals(RECORDS, done.get("succeeded").asInt(), done.toString());
        assertEquals(0, done.get("failed").asInt(), done.toString());
        assertEquals(askerCalls, requests(asker), "no answered question was asked again");
        assertEquals(answererCalls + failed, status(answerer, "200") + status(answerer, "500"),
            "one answer per retried record, and nothing else, once the model was back");
        assertEquals(0, http.get("/jobs/" + id + "/errors").lines().size(), "every error row was replaced");

        List<JsonNode> rows = http.get("/jobs/" + id + "/results?annotated=true").lines();
        assertEquals(RECORDS, rows.size());
        Set<Long> indexes = new HashSet<>();
        long calls = 0;
        int withFailures = 0;
        for (JsonNode row : rows) {
          assertTrue(indexes.add(row.get("index").asLong()), "one row per record");
          for (JsonNode call : row.get("calls")) {
            calls += call.get("attempts").asLong();
            withFailures += call.path("failures").size() > 0 ? 1 : 0;
          }
        }
        assertTrue(withFailures >= failed, "a retried record's row keeps the attempts that failed before the retry");
        // Every attempt is in a row: before the retry, during the outage (but those answered in the kill's last moments), after.
        long before = answererCalls + askerCalls;
        assertTrue(calls >= before + failed && calls <= before + failed + refusedDuringOutage,
            calls + " calls in the rows, " + before + " before the retry, " + refusedDuringOutage + " 503s, " + failed + " answers after");
        assertEquals(calls, done.get("calls").asLong(), "the job's calls are its rows'");
        System.out.printf("retry-failed: %d of %d records retried through a SIGKILL; %d calls in the rows (%d before the retry, %d 503s)%n",
            failed, RECORDS, calls, before, refusedDuringOutage);
        assertEquals(409, http.post("/jobs/" + id + "/retry-failed", "application/json", "").status(), "nothing left to retry");
      }
    }
  }

  @Test
  void aRetryCancelledKeepsTheErrorRowsItHadNotReplacedAndTheirCounts(@TempDir Path dir) throws Exception {
    try (TestSimulator sim = new TestSimulator(new SimulatorSettings(5, 0, 0, 0, 0, 1, 1));
        SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), Files.writeString(dir.resolve("p.conf"),
            "skein.models.providers.\"sim-small\" { base-url = \"" + sim.simulator.baseUrl() + "\" }\n"), null, null, null, "127.0.0.1", 0,
            List.of(), 0, false))) {
      Http http = new Http(node.httpPort());
      sim.simulator.failing(true);
      String id = http.submitJob("""
          name: cancelled-retry
          models: {m: {model: sim-small, max_tokens: 20}}
          input: {num_records: 30}
          retry: {max_attempts: 2, initial_backoff: 10ms, max_backoff: 20ms, pause_after: 10m}
          steps:
            - {name: only, model: m, prompt: "Say {{ index }}"}
          """, null);
      JsonNode failed = http.awaitState(id, "failed", Duration.ofMinutes(1));
      assertEquals(30, failed.get("failed").asInt(), failed.toString());

      sim.simulator.failing(false);
      sim.simulator.outage(true);
      assertEquals(200, http.post("/jobs/" + id + "/retry-failed", "application/json", "").status());
      http.awaitStatus(id, "wait for the model", s -> s.path("waiting_for").asText("").contains("unavailable"), Duration.ofMinutes(1));
      Http.Response cancelled = http.post("/jobs/" + id + "/cancel", "application/json", "");
      assertEquals(200, cancelled.status(), cancelled.body());
      JsonNode after = http.awaitState(id, "cancelled", Duration.ofSeconds(30));
      assertEquals(30, after.get("failed").asInt(), "the records cancelled keep their error rows, and the job counts them: " + after);
      assertTrue(after.get("calls").asLong() >= failed.get("calls").asLong(), after + " after " + failed);
      assertEquals(30, http.get("/jobs/" + id + "/errors").lines().size());
    }
  }

  private static long requests(TestSimulator sim) {
    return sim.simulator.stats().requests();
  }

  private static long status(TestSimulator sim, String code) {
    return sim.simulator.stats().byStatus().getOrDefault(code, 0L);
  }

  private static boolean healthy(Http http) {
    try {
      return http.get("/health").status() == 200;
    } catch (Exception e) {
      return false;
    }
  }
}
