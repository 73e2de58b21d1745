package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cost from the node's price table: a job's cost is the sum of its calls' usage times the prices
 * (and the metrics say the same per model); {@code max_cost} pauses a job once its spend reaches
 * the cap, overshooting by no more than the records in flight, refuses a plain resume and goes on
 * with a higher cap; {@code max_error_rate} pauses a job whose last records fail, after a window,
 * naming the most common error.
 */
class CostTest {

  /** Dollars per million tokens in and out. */
  private static final Map<String, double[]> PRICES = Map.of("sim-small", new double[] {3.0, 15.0, 0.3}, "sim-large", new double[] {1.0, 2.0, 1.0});

  private static SkeinNode node;
  private static Http http;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("skein-cost");
    Path config = Files.writeString(dir.resolve("prices.conf"), """
        skein.simulator { latency = 5ms, jitter = 0 }
        skein.prices {
          sim-small { input = 3.0, output = 15.0, cached-input = 0.3 }
          sim-large { input = 1.0, output = 2.0 }
        }
        """);
    node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true));
    http = new Http(node.httpPort());
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  /** A call's cost in billionths of a dollar, as the table prices it. */
  private static long nanos(JsonNode call) {
    double[] price = PRICES.get(call.get("model").asText());
    long cached = call.at("/usage/cached_tokens").asLong(0);
    return Math.round((call.at("/usage/prompt_tokens").asLong() - cached) * price[0] * 1e3 + cached * price[2] * 1e3
        + call.at("/usage/completion_tokens").asLong() * price[1] * 1e3);
  }

  /** Each record's cost, from its annotated row's calls. */
  private static Map<Long, Long> recordCosts(String job) throws Exception {
    Map<Long, Long> out = new HashMap<>();
    for (String kind : List.of("results", "errors")) {
      for (JsonNode row : http.get("/jobs/" + job + "/" + kind + "?annotated=true").lines()) {
        long sum = 0;
        for (JsonNode call : row.get("calls")) {
          if (call.has("usage") && !call.path("cached").asBoolean()) {
            sum += nanos(call);
          }
        }
        out.put(row.get("index").asLong(), sum);
      }
    }
    return out;
  }

  private static BigDecimal usd(long nanos) {
    return BigDecimal.valueOf(nanos, 9).setScale(6, RoundingMode.HALF_UP);
  }

  @Test
  void aJobsCostIsItsUsageTimesThePriceTable() throws Exception {
    String id = http.submitJob("""
        name: priced
        models: {writer: {model: sim-small, max_tokens: 40}, judge: {model: sim-large, max_tokens: 10}}
        cache: false
        steps:
          - {name: question, model: writer, system: "You write one short question about the topic you are given.",
             prompt: "Ask about {{ topic }}"}
          - {name: verdict, model: judge, prompt: "Judge: {{ question }}"}
        """, Http.topics("c", 40));
    JsonNode done = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
    long expected = recordCosts(id).values().stream().mapToLong(Long::longValue).sum();
    assertTrue(expected > 0, "the calls had usage");
    long cachedCalls = http.get("/jobs/" + id + "/results?annotated=true").lines().stream()
        .filter(r -> r.get("calls").get(0).at("/usage/cached_tokens").asLong(0) > 0).count();
    assertTrue(cachedCalls >= 30, "the provider served the repeated system message from its prompt cache: " + cachedCalls + " of 40");
    assertEquals(usd(expected), done.get("cost_usd").decimalValue(), "cost = sum of usage x price, for " + done);
    assertTrue(!done.has("projected_cost_usd"), "an ended job's cost is what it cost");

    JsonNode usage = http.get("/jobs/" + id + "/usage").json();
    assertEquals(40, usage.get("records").asInt());
    List<String> steps = new java.util.ArrayList<>();
    usage.get("steps").forEach(step -> steps.add(step.get("step").asText()));
    assertEquals(List.of("question", "verdict"), steps);
    for (JsonNode step : usage.get("steps")) {
      assertEquals(40, step.get("calls").asInt(), step.toString());
    }
    BigDecimal byModel = BigDecimal.ZERO;
    for (JsonNode model : usage.get("models")) {
      byModel = byModel.add(model.get("cost_usd").decimalValue());
    }
    assertTrue(byModel.subtract(done.get("cost_usd").decimalValue()).abs().compareTo(new BigDecimal("0.000002")) <= 0,
        "the models' costs add up to the job's: " + usage);

  }

  @Test
  void theMetricsCountEachModelsCost() throws Exception {
    PrometheusText.assumeParser();
    double before = PrometheusText.parse(http.get("/metrics").body()).sum("skein_model_cost_dollars_total", Map.of("model", "sim-large"));
    String id = http.submitJob("""
        name: metered-cost
        models: {judge: {model: sim-large, max_tokens: 10}}
        cache: false
        steps:
          - {name: verdict, model: judge, prompt: "Judge {{ topic }}"}
        """, Http.topics("m", 25));
    http.awaitState(id, "succeeded", Duration.ofMinutes(2));
    long expected = recordCosts(id).values().stream().mapToLong(Long::longValue).sum();
    double after = PrometheusText.parse(http.get("/metrics").body()).sum("skein_model_cost_dollars_total", Map.of("model", "sim-large"));
    assertEquals(expected / 1e9, after - before, 1e-9, "the counter grew by this job's cost (no other job used sim-large meanwhile)");
  }

  @Test
  void maxCostPausesAtTheCapAndAHigherCapGoesOn() throws Exception {
    int records = 300;
    int window = 8;
    String id = http.submitJob("""
        name: capped
        models: {writer: {model: sim-small, max_tokens: 30}}
        cache: false
        max_in_flight: %d
        max_cost: 0.02
        steps:
          - {name: answer, model: writer, prompt: "Say something about {{ topic }}"}
        """.formatted(window), Http.topics("k", records));
    JsonNode paused = http.awaitState(id, "paused", Duration.ofMinutes(2));
    assertTrue(paused.get("reason").asText().startsWith("max_cost: spent $0.02 of $0.02"), paused.get("reason").asText());
    assertTrue(paused.get("reason").asText().contains("records left would cost about"), paused.get("reason").asText());
    JsonNode drained = http.awaitStatus(id, "drain its records in flight", s -> s.get("in_flight").asInt() == 0, Duration.ofMinutes(1));
    long done = drained.get("succeeded").asLong() + drained.get("failed").asLong();
    assertTrue(done < records, "paused before the end: " + drained);
    long maxRecord = recordCosts(id).values().stream().mapToLong(Long::longValue).max().orElseThrow();
    BigDecimal spent = drained.get("cost_usd").decimalValue();
    assertTrue(spent.compareTo(new BigDecimal("0.02")) >= 0, "the cap was reached: " + spent);
    assertTrue(spent.compareTo(new BigDecimal("0.02").add(usd(maxRecord * (window + 1)))) <= 0,
        "it overshoots by at most the records in flight when it paused: " + spent + ", a record costs up to " + usd(maxRecord));
    assertTrue(drained.has("projected_cost_usd") && drained.get("projected_cost_usd").decimalValue().compareTo(spent) > 0, drained.toString());

    Http.Response plain = http.post("/jobs/" + id + "/resume", "application/json", "");
    assertEquals(409, plain.status(), plain.body());
    assertTrue(plain.json().get("detail").asText().contains("resume it with a higher max_cost"), plain.body());
    assertEquals(400, http.post("/jobs/" + id + "/resume?max_cost=-1", "application/json", "").status());

    Http.Response raised = http.post("/jobs/" + id + "/resume?max_cost=1000", "application/json", "");
    assertEquals(200, raised.status(), raised.body());
    JsonNode finished = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
    assertEquals(records, finished.get("succeeded").asInt());
  }

  @Test
  void aStagedJobsMaxCostCapsTheSpendOfAllItsStages() throws Exception {
    String id = http.post("/jobs", "application/yaml", """
        name: capped-stages
        models: {writer: {model: sim-small, max_tokens: 30}}
        cache: false
        max_in_flight: 4
        max_cost: 0.02
        input: {num_records: 200}
        stages:
          - name: asked
            steps:
              - {name: question, model: writer, prompt: "Ask about topic {{ index }}"}
          - name: answered
            steps:
              - {name: answer, model: writer, prompt: "Answer: {{ question }}"}
        """).json().get("id").asText();
    JsonNode paused = http.awaitStatus(id, "pause both stages", s -> s.get("state").asText().equals("paused")
        && s.at("/stages/0/state").asText().equals("paused") && s.at("/stages/1/state").asText().equals("paused"), Duration.ofMinutes(2));
    assertTrue(paused.get("reason").asText().contains("max_cost: spent"), paused.toString());
    JsonNode drained = http.awaitStatus(id, "drain its records in flight", s -> s.get("in_flight").asInt() == 0, Duration.ofMinutes(1));
    BigDecimal cap = new BigDecimal("0.02");
    BigDecimal spent = drained.get("cost_usd").decimalValue();
    assertTrue(spent.compareTo(cap) >= 0, "the cap was reached by the whole job: " + drained);
    BigDecimal least = drained.at("/stages/0/cost_usd").decimalValue().min(drained.at("/stages/1/cost_usd").decimalValue());
    assertTrue(least.compareTo(cap) < 0, "a stage paused below the cap on its own: the cap is the whole job's, not each stage's: " + drained);
    assertTrue(drained.get("succeeded").asLong() < 400, "paused before the end: " + drained);

    Http.Response plain = http.post("/jobs/" + id + "/resume", "application/json", "");
    assertEquals(409, plain.status(), plain.body());
    assertTrue(plain.body().contains("/jobs/" + id + "/resume?max_cost="), "it names the staged job to resume: " + plain.body());
    Http.Response raised = http.post("/jobs/" + id + "/resume?max_cost=1000", "application/json", "");
    assertEquals(200, raised.status(), raised.body());
    JsonNode finished = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
    assertEquals(200, finished.at("/stages/1/succeeded").asInt(), finished.toString());
  }

  @Test
  void maxErrorRatePausesAfterAWindowOfFailuresNamingTheMostCommonError() throws Exception {
    int window = 20;
    int inFlight = 5;
    String id = http.submitJob("""
        name: breaking
        models: {writer: {model: sim-small, max_tokens: 10}}
        max_in_flight: %d
        max_error_rate: {rate: 0.5, window: %d}
        input: {num_records: 400}
        steps:
          - {name: n, kind: expression, expr: "{{ index }}"}
          - {name: early, kind: validator, validator: regex, target: n, pattern: "^[0-9]$|^[1-5][0-9]$", on_fail: error}
          - {name: answer, model: writer, prompt: "Say {{ index }}"}
        """.formatted(inFlight, window), null);
    JsonNode paused = http.awaitState(id, "paused", Duration.ofMinutes(2));
    String reason = paused.get("reason").asText();
    assertTrue(reason.startsWith("max_error_rate: ") && reason.contains("of the last " + window + " records failed (more than 50%)"), reason);
    assertTrue(reason.contains("the most common error is validation_failed"), reason);
    JsonNode drained = http.awaitStatus(id, "drain its records in flight", s -> s.get("in_flight").asInt() == 0, Duration.ofMinutes(1));
    long failed = drained.get("failed").asLong();
    assertTrue(failed > window / 2 && failed <= window + inFlight, "it stopped within a window of failures and the records in flight: " + drained);
    assertEquals(60, drained.get("succeeded").asLong(), "records 0 to 59 pass: " + drained);

    // Resumed, it is judged on the records that end after the resume: another window, and it pauses again.
    assertEquals(200, http.post("/jobs/" + id + "/resume", "application/json", "").status());
    JsonNode again = http.awaitStatus(id, "pause again", s -> s.get("state").asText().equals("paused") && s.get("failed").asLong() > failed,
        Duration.ofMinutes(2));
    assertTrue(again.get("failed").asLong() <= failed + window + inFlight, again.toString());
  }
}
