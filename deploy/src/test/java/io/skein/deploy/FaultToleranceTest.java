package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * With 10% of answers 429 (with Retry-After) and 10% 500, every record still ends, nothing is
 * lost, and every injected fault shows up as a retried attempt in the annotated rows.
 */
class FaultToleranceTest {

  @Test
  void everyRecordEndsAndEveryFaultIsARetryInTheAnnotatedRows() throws Exception {
    Path dir = Files.createTempDirectory("skein-fault-test");
    Path config = dir.resolve("faults.conf");
    Files.writeString(config, """
        skein.simulator {
          latency = 5ms
          rate-limit-rate = 0.10
          error-rate = 0.10
          seed = 3
        }
        """);
    int records = 300;
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      StringBuilder jsonl = new StringBuilder();
      for (int i = 0; i < records; i++) {
        jsonl.append("{\"id\": \"f").append(i).append("\", \"topic\": \"subject ").append(i).append("\"}\n");
      }
      String spec = """
          name: faults
          models: {m: {model: sim-small, max_tokens: 40}}
          retry: {max_attempts: 12, initial_backoff: 50ms, max_backoff: 1s}
          steps:
            - {name: draft, model: m, prompt: "Draft about {{ topic }}"}
            - {name: critique, model: m, prompt: "Critique {{ draft }}"}
            - {name: revision, continue: draft, prompt: "Revise using {{ critique }}"}
          """;
      Http.Response submitted = http.multipart("/jobs", spec, jsonl.toString());
      assertEquals(201, submitted.status(), submitted.body());
      String id = submitted.json().get("id").asText();
      JsonNode status = http.awaitState(id, "succeeded", Duration.ofMinutes(3));
      assertEquals(records, status.get("succeeded").asInt(), "with 12 attempts no record runs out: " + status);

      List<JsonNode> rows = http.get("/jobs/" + id + "/results?annotated=true").lines();
      assertEquals(records, rows.size());
      Set<String> ids = new HashSet<>();
      Map<String, Integer> failuresByType = new HashMap<>();
      long attempts = 0;
      for (JsonNode row : rows) {
        assertTrue(ids.add(row.get("id").asText()), "no id twice");
        for (JsonNode call : row.get("calls")) {
          attempts += call.get("attempts").asInt();
          for (JsonNode failure : call.path("failures")) {
            failuresByType.merge(failure.get("error_type").asText(), 1, Integer::sum);
          }
        }
      }
      var stats = node.simulator().stats();
      long rateLimited = stats.byStatus().getOrDefault("429", 0L);
      long serverErrors = stats.byStatus().getOrDefault("500", 0L);
      assertTrue(rateLimited > 30 && serverErrors > 30, "faults were injected: " + stats);
      assertEquals(rateLimited, failuresByType.getOrDefault("rate_limited", 0).longValue(), "every 429 is a retried attempt");
      assertEquals(serverErrors, failuresByType.getOrDefault("server_error", 0).longValue(), "every 500 is a retried attempt");
      assertEquals(stats.requests(), attempts, "every request the simulator saw is an attempt in some row");
      assertEquals(records * 3L + rateLimited + serverErrors, stats.requests());

      long coordinatorEvents = node.store().db().sync(c -> {
        try (var s = c.createStatement();
            var rs = s.executeQuery("SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = 'Job|" + id + "'")) {
          rs.next();
          return rs.getLong(1);
        }
      });
      assertTrue(coordinatorEvents > 0 && coordinatorEvents < 40,
          "the coordinator journals progress in batches, not per record: " + coordinatorEvents + " events for " + records + " records");
    }
  }

  @Test
  void slowAnswersTimeOutAndAreRetried() throws Exception {
    Path dir = Files.createTempDirectory("skein-timeout-test");
    Path config = dir.resolve("slow.conf");
    Files.writeString(config, """
        skein.simulator { latency = 40ms, jitter = 0, slow-rate = 0.15, seed = 5 }
        skein.models.default-request-timeout = 250ms
        """);
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      String spec = """
          name: slow
          models: {m: sim-small}
          input: {num_records: 60}
          retry: {max_attempts: 10, initial_backoff: 20ms, max_backoff: 100ms}
          steps:
            - {name: a, model: m, prompt: "A {{ index }}"}
            - {name: b, model: m, prompt: "B {{ a }}"}
          """;
      Http.Response submitted = http.post("/jobs", "application/yaml", spec);
      assertEquals(201, submitted.status(), submitted.body());
      String id = submitted.json().get("id").asText();
      assertEquals(60, http.awaitState(id, "succeeded", Duration.ofMinutes(2)).get("succeeded").asInt());
      long timeouts = 0;
      for (JsonNode row : http.get("/jobs/" + id + "/results?annotated=true").lines()) {
        for (JsonNode call : row.get("calls")) {
          for (JsonNode failure : call.path("failures")) {
            assertEquals("timeout", failure.get("error_type").asText());
            timeouts++;
          }
        }
      }
      assertTrue(timeouts > 0, "some answers took 400 ms against a 250 ms timeout");
    }
  }

  @Test
  void withThirtyPercentMixedFaultsEveryRecordEndsAsOneRowOrOneErrorRow() throws Exception {
    Path dir = Files.createTempDirectory("skein-mixed-faults-test");
    Path config = dir.resolve("mixed.conf");
    // 8% 429, 8% 500, 8% a 200 no client can use (JSON cut off, no choices, HTML), 6% ten times slower than the timeout allows.
    Files.writeString(config, """
        skein.simulator { latency = 20ms, jitter = 0, rate-limit-rate = 0.08, error-rate = 0.08, broken-rate = 0.08, slow-rate = 0.06, seed = 8 }
        skein.models.default-request-timeout = 120ms
        """);
    int records = 200;
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      String spec = """
          name: mixed
          models: {m: {model: sim-small, max_tokens: 30}}
          input: {num_records: %d}
          retry: {max_attempts: 4, initial_backoff: 10ms, max_backoff: 100ms}
          steps:
            - {name: a, model: m, prompt: "A {{ index }}"}
            - {name: b, model: m, prompt: "B {{ a }}"}
          """.formatted(records);
      Http.Response submitted = http.post("/jobs", "application/yaml", spec);
      assertEquals(201, submitted.status(), submitted.body());
      String id = submitted.json().get("id").asText();
      JsonNode status = http.awaitStatus(id, "end", s -> !s.get("state").asText().equals("running"), Duration.ofMinutes(3));
      assertEquals(records, status.get("succeeded").asInt() + status.get("failed").asInt(), status.toString());

      List<JsonNode> rows = http.get("/jobs/" + id + "/results?annotated=true").lines();
      List<JsonNode> errors = http.get("/jobs/" + id + "/errors").lines();
      assertEquals(records, rows.size() + errors.size(), "one row or one error row per record");
      Set<String> ids = new HashSet<>();
      rows.forEach(r -> assertTrue(ids.add(r.get("id").asText()), "no id twice"));
      errors.forEach(r -> assertTrue(ids.add(r.get("id").asText()), "no id twice, across rows and error rows"));
      Map<String, Integer> failuresByType = new HashMap<>();
      for (JsonNode row : rows) {
        for (JsonNode call : row.get("calls")) {
          for (JsonNode failure : call.path("failures")) {
            failuresByType.merge(failure.get("error_type").asText(), 1, Integer::sum);
          }
        }
      }
      for (String type : List.of("rate_limited", "server_error", "invalid_response", "timeout")) {
        assertTrue(failuresByType.getOrDefault(type, 0) > 0, "a " + type + " was met and retried: " + failuresByType);
      }
      for (JsonNode error : errors) {
        assertTrue(error.at("/error/message").asText().contains("gave up after"), "an error row says why: " + error);
      }
    }
  }
}
