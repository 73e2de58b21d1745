package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.deploy.sim.ModelSimulator;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job pauses instead of failing its records when the model refuses the key, keeps its pause
 * across a restart, and resumes once the key is fixed, without repeating an answered call; and a
 * job paused by request starts no record until it is resumed.
 */
class JobPauseTest {

  private static final String KEY = "sk-pause-test-right-key";

  private static long count(ModelSimulator simulator, String status) {
    return simulator.stats().byStatus().getOrDefault(status, 0L);
  }

  @Test
  void aWrongKeyPausesTheJobWhichSurvivesARestartAndResumesWithTheRightKey(@TempDir Path dir) throws Exception {
    int records = 200;
    int window = 20;
    String spec = """
        name: pause-on-401
        models: {writer: {model: sim-small, max_tokens: 30}}
        max_in_flight: %d
        steps:
          - {name: question, model: writer, prompt: "Ask about {{ topic }}"}
          - {name: answer, model: writer, prompt: "{{ question }}"}
        """.formatted(window);
    try (TestSimulator sim = new TestSimulator(new SimulatorSettings(10, 0, 0, 0, 0, 1, 1, KEY))) {
      ModelSimulator simulator = sim.simulator;
      int httpPort = SkeinProcess.freePort();
      String[] args = {"node", "--data-dir", dir.resolve("data").toString(), "--port", String.valueOf(SkeinProcess.freePort()),
          "--http-port", String.valueOf(httpPort), "--no-simulator"};
      Http http = new Http(httpPort);
      String id;
      long refused;
      try (SkeinProcess node = SkeinProcess.start(dir.resolve("wrong-key.log"),
          Map.of("OPENAI_BASE_URL", simulator.baseUrl(), "OPENAI_API_KEY", KEY + "-typo"), args)) {
        SkeinProcess.await("the node's HTTP API", Duration.ofMinutes(2), () -> healthy(http), node);
        id = http.submitJob(spec, Http.topics("p", records));
        JsonNode paused = http.awaitState(id, "paused", Duration.ofMinutes(1));
        String reason = paused.get("reason").asText();
        assertTrue(reason.startsWith("model `writer` refused"), reason);
        assertTrue(reason.contains("unauthorized at step `question`"), reason);
        assertTrue(reason.contains("resume"), reason);
        assertEquals(0, paused.get("failed").asInt(), "no record failed");

        // Records already sent when the job paused are refused too; then nothing more is sent.
        http.awaitStatus(id, "drain its records in flight", s -> s.get("in_flight").asInt() == 0, Duration.ofMinutes(1));
        refused = count(simulator, "401");
        assertEquals(refused, simulator.stats().requests(), "every call so far was refused");
        assertTrue(refused >= 3 && refused <= window + 3, "the job stopped sending new records: " + refused + " calls");
        assertEquals(0, http.get("/jobs/" + id + "/errors").lines().size());
        node.terminate();
      }

      try (SkeinProcess node = SkeinProcess.start(dir.resolve("right-key.log"),
          Map.of("OPENAI_BASE_URL", simulator.baseUrl(), "OPENAI_API_KEY", KEY), args)) {
        SkeinProcess.await("the node's HTTP API", Duration.ofMinutes(2), () -> healthy(http), node);
        assertEquals("paused", http.get("/jobs/" + id).json().get("state").asText(), "a restart does not resume a paused job");
        assertEquals(refused, simulator.stats().requests(), "a paused job sends nothing after a restart");

        Http.Response resumed = http.post("/jobs/" + id + "/resume", "application/json", "");
        assertEquals(200, resumed.status(), resumed.body());
        assertTrue(List.of("running", "succeeded").contains(resumed.json().get("state").asText()), resumed.body());
        assertTrue(!resumed.json().has("reason"), "the pause's reason is cleared: " + resumed.body());

        JsonNode done = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
        assertEquals(records, done.get("succeeded").asInt());
        List<JsonNode> rows = http.get("/jobs/" + id + "/results?annotated=true").lines();
        assertEquals(records, rows.size());
        Set<String> ids = new HashSet<>();
        long refusedAttempts = 0;
        for (JsonNode row : rows) {
          assertTrue(ids.add(row.get("id").asText()), "no id twice");
          for (JsonNode call : row.get("calls")) {
            for (JsonNode failure : call.path("failures")) {
              assertEquals("unauthorized", failure.get("error_type").asText());
              refusedAttempts++;
            }
          }
        }
        assertEquals(refused, refusedAttempts, "every refused call is an attempt in its record's row");
        assertEquals(records * 2L, count(simulator, "200"), "no call was answered twice");
        assertEquals(refused, count(simulator, "401"), "nothing was refused after the resume");

        Http.Response again = http.post("/jobs/" + id + "/resume", "application/json", "");
        assertEquals(409, again.status(), again.body());
        assertTrue(again.contentType().startsWith("application/problem+json"), again.contentType());
        assertEquals(404, http.post("/jobs/job-nope/pause", "application/json", "").status());
        node.terminate();
      }
    }
  }

  @Test
  void aJobPausedByRequestStartsNoRecordUntilItIsResumed(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("slow.conf");
    Files.writeString(config, "skein.simulator { latency = 40ms, jitter = 0 }\n");
    int records = 150;
    String spec = """
        name: pause-by-request
        models: {m: {model: sim-small, max_tokens: 20}}
        max_in_flight: 8
        steps:
          - {name: only, model: m, prompt: "About {{ topic }}"}
        """;
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      String id = http.submitJob(spec, Http.topics("p", records));
      Http.Response paused = http.post("/jobs/" + id + "/pause", "application/json", "");
      assertEquals(200, paused.status(), paused.body());
      assertEquals("paused", paused.json().get("state").asText());
      assertEquals("paused by request", paused.json().get("reason").asText());
      assertEquals(200, http.post("/jobs/" + id + "/pause", "application/json", "").status(), "pausing twice is harmless");

      JsonNode idle = http.awaitStatus(id, "finish its records in flight", s -> s.get("in_flight").asInt() == 0, Duration.ofMinutes(1));
      Instant idleAt = Instant.now();
      long doneWhilePaused = idle.get("succeeded").asLong();
      assertTrue(doneWhilePaused < records, "the job paused before its end: " + idle);

      // Let a whole other job run meanwhile: the paused one must not move.
      String other = http.submitJob(spec.replace("pause-by-request", "other"), Http.topics("o", 20));
      http.awaitState(other, "succeeded", Duration.ofMinutes(1));
      JsonNode still = http.get("/jobs/" + id).json();
      assertEquals("paused", still.get("state").asText());
      assertEquals(doneWhilePaused, still.get("succeeded").asLong());

      Instant resumedAt = Instant.now();
      Http.Response resumed = http.post("/jobs/" + id + "/resume", "application/json", "");
      assertEquals(200, resumed.status(), resumed.body());
      http.awaitState(id, "succeeded", Duration.ofMinutes(2));
      List<JsonNode> rows = http.get("/jobs/" + id + "/results?annotated=true").lines();
      assertEquals(records, rows.size());
      long startedBeforeIdle = 0;
      for (JsonNode row : rows) {
        Instant started = Instant.parse(row.at("/timings/started_at").asText());
        assertTrue(started.isBefore(idleAt) || !started.isBefore(resumedAt),
            row.get("id") + " started while the job was paused: " + started);
        startedBeforeIdle += started.isBefore(idleAt) ? 1 : 0;
      }
      assertEquals(doneWhilePaused, startedBeforeIdle, "exactly the records that ran before the pause had started by then");
    }
  }

  private static boolean healthy(Http http) {
    try {
      return http.get("/health").status() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void aCancelledJobSendsNoCallAfterTheCallsItHadInFlight(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("slow.conf");
    Files.writeString(config, "skein.simulator.latency = 150ms\n");
    String spec = """
        name: cancel-mid-record
        models: {m: sim-small}
        input: {num_records: 1000}
        max_in_flight: 4
        steps:
          - {name: a, model: m, prompt: "{{ index }}"}
          - {name: b, model: m, prompt: "{{ a }}"}
          - {name: c, model: m, prompt: "{{ b }}"}
          - {name: d, model: m, prompt: "{{ c }}"}
          - {name: e, model: m, prompt: "{{ d }}"}
          - {name: f, model: m, prompt: "{{ e }}"}
        """;
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      ModelSimulator simulator = node.simulator();
      String id = http.submitJob(spec, null);
      http.awaitStatus(id, "get going", s -> simulator.stats().requests() >= 10, Duration.ofSeconds(30));
      assertEquals(200, http.post("/jobs/" + id + "/cancel", "application/json", "").status());
      long atCancel = simulator.stats().requests();

      // The calls in flight come back; the records they belong to have ended and send no next step.
      http.awaitStatus(id, "see its calls in flight answered", s -> simulator.stats().inFlight() == 0, Duration.ofSeconds(10));
      long answered = simulator.stats().requests();
      assertTrue(answered - atCancel <= 4, (answered - atCancel) + " calls were sent after the cancel");
      long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
      while (System.nanoTime() < deadline) {
        // A record that had not heard of the cancel would send its next step within one latency (150 ms).
        assertEquals(answered, simulator.stats().requests(), "no call after the cancel");
        Thread.sleep(50);
      }
      JsonNode status = http.get("/jobs/" + id).json();
      assertEquals("cancelled", status.get("state").asText());
      assertEquals(status.get("succeeded").asLong(), http.get("/jobs/" + id + "/results").lines().size(),
          "the rows are those of records that ended before the cancel");
    }
  }

  @Test
  void aPauseWhoseJobRowWriteFailsReachesTheRowOnALaterTry(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("slow.conf");
    Files.writeString(config, "skein.simulator.latency = 100ms\n");
    String spec = """
        name: pause-row
        models: {m: sim-small}
        input: {num_records: 1000}
        max_in_flight: 4
        steps:
          - {name: a, model: m, prompt: "{{ index }}"}
        """;
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      node.store().db().sync(c -> {
        try (var st = c.createStatement()) {
          st.execute("CREATE TRIGGER refuse_job_rows BEFORE UPDATE ON skein_jobs FOR EACH ROW CALL \"" + RefuseJobRowWrites.class.getName() + "\"");
        }
        return null;
      });
      String id = http.submitJob(spec, null);
      http.awaitStatus(id, "get going", s -> s.get("succeeded").asLong() > 0, Duration.ofSeconds(30));
      RefuseJobRowWrites.refusals.set(2);
      assertEquals(200, http.post("/jobs/" + id + "/pause", "application/json", "").status());
      JsonNode paused = http.awaitState(id, "paused", Duration.ofSeconds(15));
      assertEquals("paused by request", paused.get("reason").asText());
      assertEquals(0, RefuseJobRowWrites.refusals.get(), "the first writes were refused, and written again");
    }
  }
}
