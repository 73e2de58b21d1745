package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records in flight are capped per node across jobs, and the cap is shared between the jobs
 * running: a lone job uses all of it, two jobs get half each, and together they never exceed it.
 */
class NodeCapacityTest {

  private static final int CAP = 30;

  private static String submit(Http http, String name, int records) throws Exception {
    String spec = """
        name: %s
        models: {m: {model: sim-small, max_tokens: 20}}
        max_in_flight: 100
        input: {num_records: %d}
        steps:
          - {name: a, model: m, prompt: "Question {{ index }}"}
          - {name: b, model: m, prompt: "Answer {{ a }}"}
        """.formatted(name, records);
    return http.submitJob(spec, null);
  }

  @Test
  void jobsShareTheNodesRecordsInFlight(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("cap.conf");
    Files.writeString(config, """
        skein.simulator { latency = 100ms, jitter = 0 }
        skein.job.max-records-in-flight-per-node = %d
        """.formatted(CAP));
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      String first = submit(http, "first", 1500);
      JsonNode alone = http.awaitStatus(first, "use the whole node", s -> s.get("in_flight").asInt() > CAP / 2, Duration.ofSeconds(30));
      assertTrue(alone.get("in_flight").asInt() <= CAP, "a lone job is capped by the node, not its own 100: " + alone);

      String second = submit(http, "second", 400);
      http.awaitStatus(first, "give up half the node", s -> s.get("in_flight").asInt() <= CAP / 2, Duration.ofSeconds(30));
      int sampled = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (true) {
        assertTrue(System.nanoTime() < deadline, "the second job never ended");
        JsonNode a = http.get("/jobs/" + first).json();
        JsonNode b = http.get("/jobs/" + second).json();
        if (!b.get("state").asText().equals("running")) {
          break;
        }
        assertTrue(a.get("in_flight").asInt() <= CAP / 2, "the first job keeps to its half: " + a);
        assertTrue(b.get("in_flight").asInt() <= CAP / 2, "the second job keeps to its half: " + b);
        sampled++;
        Thread.sleep(100);
      }
      assertTrue(sampled > 3, "the jobs ran side by side for a while: " + sampled + " samples");
      assertEquals(400, http.awaitState(second, "succeeded", Duration.ofMinutes(1)).get("succeeded").asInt());
      assertEquals(1500, http.awaitState(first, "succeeded", Duration.ofMinutes(2)).get("succeeded").asInt());
    }
  }
}
