package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Iterating on a pipeline: a second job that changes only its last step gets the unchanged steps'
 * answers from the response cache and pays only for the changed one; `cache: false` pays for all.
 */
class ResponseCacheTest {

  private static final int RECORDS = 30;
  private static final String SPEC = """
      name: iterate
      seed: 11
      models: {writer: {model: sim-small, temperature: 0.9, max_tokens: 40}}
      steps:
        - {name: question, model: writer, prompt: "Ask about {{ topic }}"}
        - {name: answer, model: writer, prompt: "ANSWER_PROMPT {{ question }}"}
      """;

  private static JsonNode run(Http http, String spec) throws Exception {
    String id = http.submitJob(spec, Http.topics("c", RECORDS));
    JsonNode status = http.awaitState(id, "succeeded", Duration.ofMinutes(1));
    ((ObjectNode) status).set("rows", Http.JSON.valueToTree(http.get("/jobs/" + id + "/results?annotated=true").lines()));
    return status;
  }

  @Test
  void aChangedLastStepPaysOnlyForItselfAndCacheFalsePaysForEverything(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("sim.conf");
    Files.writeString(config, "skein.simulator.latency = 2ms\n");
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      long before = node.simulator().stats().requests();

      JsonNode first = run(http, SPEC.replace("ANSWER_PROMPT", "Answer:"));
      assertEquals(2L * RECORDS, node.simulator().stats().requests() - before);
      assertEquals(2 * RECORDS, first.get("calls").asInt());

      JsonNode second = run(http, SPEC.replace("ANSWER_PROMPT", "Answer in one sentence:"));
      assertEquals(3L * RECORDS, node.simulator().stats().requests() - before, "only the changed step was asked");
      assertEquals(RECORDS, second.get("calls").asInt(), "answers from the cache cost no call");
      assertTrue(second.get("tokens").asLong() < first.get("tokens").asLong(), "nor tokens");
      for (int i = 0; i < RECORDS; i++) {
        JsonNode before1 = first.get("rows").get(i);
        JsonNode after = second.get("rows").get(i);
        assertEquals(before1.get("id"), after.get("id"));
        JsonNode question = after.at("/calls/0");
        assertEquals("question", question.get("step").asText());
        assertTrue(question.path("cached").asBoolean(), "the unchanged step came from the cache: " + question);
        assertEquals(0, question.get("attempts").asInt());
        assertEquals(before1.at("/calls/0/response"), question.get("response"), "with the same answer");
        JsonNode answer = after.at("/calls/1");
        assertFalse(answer.has("cached"), "the changed step was asked: " + answer);
        assertTrue(answer.at("/messages/0/content").asText().startsWith("Answer in one sentence:"));
      }

      run(http, "cache: false\n" + SPEC.replace("ANSWER_PROMPT", "Answer:"));
      assertEquals(5L * RECORDS, node.simulator().stats().requests() - before, "cache: false asks for every call");
    }
  }

  @Test
  void theCacheOutlivesTheNodeAndItsSimulatorsPort(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("sim.conf");
    Files.writeString(config, "skein.simulator.latency = 2ms\n");
    NodeOptions options = new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true);
    JsonNode first;
    try (SkeinNode node = SkeinNode.start(options)) {
      first = run(new Http(node.httpPort()), SPEC.replace("ANSWER_PROMPT", "Answer:"));
    }
    // A new run on the same data: its built-in simulator listens on another port, as every `skein run` does.
    try (SkeinNode node = SkeinNode.start(options)) {
      JsonNode second = run(new Http(node.httpPort()), SPEC.replace("ANSWER_PROMPT", "Answer in one sentence:"));
      assertEquals(RECORDS, node.simulator().stats().requests(), "only the changed step was asked");
      assertEquals(first.get("rows").get(0).at("/calls/0/response"), second.get("rows").get(0).at("/calls/0/response"));
    }
  }

  @Test
  void aJobThatEndedKeepsNoCoordinator(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("sim.conf");
    Files.writeString(config, "skein.simulator.latency = 2ms\n");
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      for (int i = 0; i < 3; i++) {
        run(http, SPEC.replace("ANSWER_PROMPT", "Answer " + i + ":"));
      }
      // Memory follows the work in flight: the coordinators of ended jobs passivate once their end is in the job row.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      int coordinators;
      do {
        coordinators = http.get("/cluster").json().at("/members/0/job_coordinators").asInt();
        if (coordinators > 0) {
          Thread.sleep(100);
        }
      } while (coordinators > 0 && System.nanoTime() < deadline);
      assertEquals(0, coordinators, "no coordinator stays up for an ended job");
      assertEquals("succeeded", http.get("/jobs").json().at("/jobs/0/state").asText(), "an ended job still answers for itself");
    }
  }
}
