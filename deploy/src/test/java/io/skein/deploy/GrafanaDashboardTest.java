package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard in {@code deploy/grafana} asks only for series a node serves: every metric
 * its queries name is in a real scrape of a node that has run a job; and the journal-write, call
 * overhead and batch meters it plots count what the job did.
 */
class GrafanaDashboardTest {

  private static final Pattern METRIC = Pattern.compile("\\b(?:skein|jvm|process)_[a-z0-9_]+");

  @Test
  void everySeriesTheDashboardAsksForIsOneANodeServes() throws Exception {
    JsonNode dashboard = Http.JSON.readTree(Path.of("grafana", "skein-dashboard.json").toFile());
    Set<String> asked = new TreeSet<>();
    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : dashboard.get("panels")) {
      assertTrue(ids.add(panel.get("id").asInt()), "panel ids are unique");
      assertEquals("${datasource}", panel.at("/datasource/uid").asText(), "every panel uses the dashboard's data source");
      for (JsonNode target : panel.get("targets")) {
        Matcher m = METRIC.matcher(target.get("expr").asText());
        while (m.find()) {
          asked.add(m.group());
        }
      }
    }
    assertTrue(asked.size() >= 10, asked.toString());

    try (SkeinNode node = TestNodes.withSimulatorLatency("grafana", "5ms")) {
      Http http = new Http(node.httpPort());
      String id = http.submitJob("""
          name: scraped
          models: {m: {model: sim-small, max_tokens: 10}}
          input: {num_records: 30}
          steps:
            - {name: a, model: m, prompt: "Say {{ index }}"}
          """, null);
      http.awaitState(id, "succeeded", Duration.ofMinutes(2));
      // The JVM's GC meters appear with its first collection, reported after it on a thread of the JVM's own.
      System.gc();
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      String scrape = http.get("/metrics").body();
      while (!scrape.contains("jvm_gc_pause_seconds_sum") && System.nanoTime() < deadline) {
        Thread.sleep(100); // polling the scrape until the collection is reported, within the deadline
        scrape = http.get("/metrics").body();
      }
      Set<String> served = new HashSet<>();
      scrape.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).forEach(l -> served.add(l.split("[{ ]", 2)[0]));
      Set<String> missing = new TreeSet<>(asked);
      missing.removeAll(served);
      assertTrue(missing.isEmpty(), "the dashboard asks for series no node serves: " + missing);

      assertEquals(30.0, sample(scrape, "skein_journal_write_seconds_count"), "one journal write timed per call");
      assertEquals(30.0, sample(scrape, "skein_call_overhead_seconds_count"), "one overhead timed per call");
      assertEquals(30.0, sample(scrape, "skein_ledger_batch_rows_sum"), "every row went through a ledger batch");
      assertTrue(sample(scrape, "skein_ledger_batch_rows_count") >= 1 && sample(scrape, "skein_ledger_batch_rows_count") <= 30);
    }
  }

  /** The value of an untagged-but-node series (a node has one of each). */
  private static double sample(String scrape, String name) {
    return scrape.lines().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
