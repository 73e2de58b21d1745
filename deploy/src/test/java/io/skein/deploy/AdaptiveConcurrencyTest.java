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
 * A provider that takes 8 requests at once while Skein is configured for 256: the node settles
 * near what the provider takes instead of answering most calls with 429s, every record still
 * ends well, and {@code GET /cluster/models} shows the adapted limit.
 */
class AdaptiveConcurrencyTest {

  @Test
  void aNodeSettlesNearTheProvidersQuota(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("quota.conf");
    Files.writeString(config, "skein.simulator { latency = 20ms, jitter = 0, max-concurrent = 8 }\n");
    int records = 400;
    String spec = """
        name: quota
        models: {m: {model: sim-small, max_tokens: 20}}
        max_in_flight: 200
        retry: {max_attempts: 30, initial_backoff: 50ms, max_backoff: 500ms}
        input: {num_records: %d}
        steps:
          - {name: only, model: m, prompt: "Question {{ index }}"}
        """.formatted(records);
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      JsonNode done = http.awaitState(http.submitJob(spec, null), "succeeded", Duration.ofMinutes(2));
      assertEquals(records, done.get("succeeded").asInt());

      long refused = node.simulator().stats().byStatus().getOrDefault("429", 0L);
      // At a fixed 256 (200 records in flight) each round would send ~200 calls for 8 places.
      assertTrue(refused < records, refused + " calls refused for " + records + " answers");

      JsonNode models = http.get("/cluster/models").json();
      JsonNode sim = models.get("models").get(0);
      assertEquals("sim-small", sim.get("model").asText(), models.toString());
      assertEquals(256, sim.get("max_concurrency").asInt());
      assertTrue(sim.get("concurrency").asInt() < 64, "the limit came down towards the quota: " + sim);
      assertEquals(0, sim.get("in_flight").asInt());
    }
  }
}
