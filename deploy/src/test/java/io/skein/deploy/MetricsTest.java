package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} scraped during and after a job against a provider that takes 4 calls at
 * once (so some calls get 429s), parsed by Prometheus's own text parser: the node's records in
 * flight show while the job runs and drop to zero after; the attempts by outcome, the tokens and
 * the rows agree with the job's counts and the provider's own count of 200s and 429s.
 */
class MetricsTest {

  private static final Map<String, String> SIM = Map.of("model", "sim-small");

  @Test
  void aScrapeAgreesWithTheJobAndTheProvider(@TempDir Path dir) throws Exception {
    PrometheusText.assumeParser();
    Path config = dir.resolve("quota.conf");
    Files.writeString(config, "skein.simulator { latency = 30ms, jitter = 0, max-concurrent = 4 }\n");
    int records = 150;
    String spec = """
        name: metered
        models: {m: {model: sim-small, max_tokens: 20}}
        max_in_flight: 50
        retry: {max_attempts: 40, initial_backoff: 20ms, max_backoff: 200ms}
        input: {num_records: %d}
        steps:
          - {name: only, model: m, prompt: "Question {{ index }}"}
        """.formatted(records);
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      String job = http.submitJob(spec, null);

      PrometheusText during = awaitScrape(http, m -> m.sum("skein_records_in_flight", Map.of()) > 0, "records in flight while the job runs");
      assertTrue(during.sum("skein_records_in_flight", Map.of()) <= 50, "no more than max_in_flight run at once");

      JsonNode done = http.awaitState(job, "succeeded", Duration.ofMinutes(2));
      assertEquals(records, done.get("succeeded").asInt());
      PrometheusText after = awaitScrape(http, m -> m.sum("skein_records_in_flight", Map.of()) == 0, "no record in flight after the job");

      var served = node.simulator().stats().byStatus();
      double ok = after.sum("skein_model_calls_total", Map.of("model", "sim-small", "outcome", "ok"));
      double limited = after.sum("skein_model_calls_total", Map.of("model", "sim-small", "outcome", "rate_limited"));
      assertEquals(records, ok, "one answer per record");
      assertEquals(done.get("calls").asDouble(), ok + limited, "the job's calls are its attempts");
      assertEquals((double) served.getOrDefault("200", 0L), ok, "answered attempts are the provider's 200s");
      assertEquals((double) served.getOrDefault("429", 0L), limited, "429s are the provider's 429s");
      assertTrue(limited > 0, "the provider's quota was met: " + served);
      assertEquals(ok + limited, after.sum("skein_model_latency_seconds_count", SIM), "every attempt's latency is measured");
      assertEquals(done.get("tokens").asDouble(),
          after.sum("skein_model_tokens_sum", Map.of("model", "sim-small", "direction", "input"))
              + after.sum("skein_model_tokens_sum", Map.of("model", "sim-small", "direction", "output")),
          "tokens in and out are the job's tokens");
      assertEquals(records, after.sum("skein_records_finished_total", Map.of("outcome", "succeeded")));
      assertEquals(0, after.sum("skein_records_finished_total", Map.of("outcome", "failed")));
      assertEquals(256, after.sum("skein_model_concurrency_max", SIM), "this node's share of the default max_concurrency");
      double limit = after.sum("skein_model_concurrency_limit", SIM);
      assertTrue(limit >= 1 && limit < 64, "the adapted limit came down towards the quota: " + limit);
      assertEquals(0, after.sum("skein_model_calls_in_flight", SIM));
      assertEquals(0, after.sum("skein_model_calls_waiting", SIM));
      assertTrue(after.has("jvm_memory_used_bytes") && after.has("jvm_threads_live_threads"), "the JVM's own meters are there");
      String self = node.system().address().hostPort();
      assertEquals(1, after.matching("skein_records_in_flight", Map.of("node", self)).size(), "series carry the node");
    }
  }

  @Test
  void metricsAreServedAsPrometheusText(@TempDir Path dir) throws Exception {
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), null, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http.Response scrape = new Http(node.httpPort()).get("/metrics");
      assertEquals(200, scrape.status());
      assertTrue(scrape.contentType().startsWith("text/plain"), scrape.contentType());
      assertTrue(scrape.body().contains("# TYPE skein_records_in_flight gauge"), scrape.body());
      assertTrue(scrape.body().contains("# TYPE jvm_threads_live_threads gauge"), scrape.body());
    }
  }

  private static PrometheusText awaitScrape(Http http, java.util.function.Predicate<PrometheusText> until, String what)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    PrometheusText last = null;
    while (System.nanoTime() < deadline) {
      last = PrometheusText.parse(http.get("/metrics").body());
      if (until.test(last)) {
        return last;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no scrape within the deadline showed " + what);
  }
}
