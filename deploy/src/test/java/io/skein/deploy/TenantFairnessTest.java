package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.coordinator.http.ApiTokens;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants share a node fairly and within their caps: a tenant running five jobs and one running one
 * get about the same calls per second from a model whose concurrency both need; a tenant capped at
 * requests per minute or records in flight stays under its cap, and its jobs still finish.
 */
class TenantFairnessTest {

  private static final String[] TOKENS = {"token-team-a-3e0c5a8b1d7f", "token-team-b-9a2f6c4e0b1d", "token-team-c-7b5d3f1a9e2c",
      "token-team-d-1c9e7a5f3b0d"};
  private static final int CONCURRENCY = 8;

  @TempDir
  static Path dir;
  private static TestSimulator sim;
  /** team-d's model: what it sees in flight is team-d's alone. */
  private static TestSimulator narrowSim;
  private static SkeinNode node;

  @BeforeAll
  static void start() throws Exception {
    sim = new TestSimulator(new SimulatorSettings(40, 0, 0, 0, 0, 1, 1));
    narrowSim = new TestSimulator(new SimulatorSettings(40, 0, 0, 0, 0, 1, 1));
    StringBuilder tokens = new StringBuilder();
    for (int i = 0; i < TOKENS.length; i++) {
      tokens.append("{name = t").append(i).append(", sha256 = \"").append(ApiTokens.sha256(TOKENS[i])).append("\", tenant = team-")
          .append((char) ('a' + i)).append("},\n");
    }
    Path config = Files.writeString(dir.resolve("fair.conf"), """
        skein.models.providers."sim-small" { base-url = "%s", max-concurrency = %d }
        skein.models.providers."sim-narrow" { base-url = "%s", model = "sim-small" }
        skein.http.auth.tokens = [%s]
        skein.tenants {
          team-c { max-requests-per-minute = 300 }
          team-d { max-in-flight = 4 }
        }
        """.formatted(sim.simulator.baseUrl(), CONCURRENCY, narrowSim.simulator.baseUrl(), tokens));
    node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, false));
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    if (sim != null) {
      sim.close();
    }
    if (narrowSim != null) {
      narrowSim.close();
    }
  }

  private static Http as(int tenant) {
    return new Http(node.httpPort()).withToken(TOKENS[tenant]);
  }

  private static String submit(Http http, String name, int records) throws Exception {
    return submit(http, name, records, "sim-small");
  }

  private static String submit(Http http, String name, int records, String model) throws Exception {
    Http.Response r = http.post("/jobs", "application/yaml", """
        name: %s
        models: {m: {model: %s, max_tokens: 20}}
        cache: false
        input: {num_records: %d}
        steps:
          - {name: a, model: m, prompt: "%s {{ index }}"}
        """.formatted(name, model, records, name));
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }

  /** The calls the jobs have journaled so far (live counts). */
  private static long calls(Http http, List<String> jobs) throws Exception {
    long sum = 0;
    for (String id : jobs) {
      sum += http.get("/jobs/" + id).json().get("calls").asLong();
    }
    return sum;
  }

  private static long calls(int tenant, List<String> jobs) {
    try {
      return calls(as(tenant), jobs);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aTenantWithFiveJobsAndOneWithOneGetAboutTheSameCallsPerSecond() throws Exception {
    List<String> many = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      many.add(submit(as(0), "many-" + i, 600));
    }
    List<String> one = List.of(submit(as(1), "one", 1500));
    // Both tenants' calls are queued at the model's gateway well before this; measure while 300 more calls are made.
    SkeinProcess.await("both tenants' calls to flow", Duration.ofMinutes(1), () -> calls(0, many) > 50 && calls(1, one) > 50, null);
    long a0 = calls(as(0), many);
    long b0 = calls(as(1), one);
    long t0 = System.nanoTime();
    long[] now = new long[2];
    SkeinProcess.await("300 more calls", Duration.ofMinutes(1), () -> {
      now[0] = calls(0, many);
      now[1] = calls(1, one);
      return now[0] - a0 + now[1] - b0 >= 300;
    }, null);
    long a1 = now[0];
    long b1 = now[1];
    double seconds = (System.nanoTime() - t0) / 1e9;
    double aRate = (a1 - a0) / seconds;
    double bRate = (b1 - b0) / seconds;
    System.out.printf("[skein] calls/s while both ran: team-a (5 jobs) %.0f, team-b (1 job) %.0f%n", aRate, bRate);
    assertTrue(b1 < 1500 && a1 < 3000, "both were still running at the end of the measure");
    assertTrue(bRate > 0.6 * aRate && bRate < 1.6 * aRate,
        "one job of one tenant gets about what five of another get together: " + aRate + " against " + bRate);
    for (String id : many) {
      as(0).awaitState(id, "succeeded", Duration.ofMinutes(2));
    }
    as(1).awaitState(one.get(0), "succeeded", Duration.ofMinutes(2));
  }

  @Test
  void aTenantsCapsOnRequestsAndRecordsInFlightHold() throws Exception {
    long started = System.nanoTime();
    long deadline = started + Duration.ofMinutes(1).toNanos();
    String capped = submit(as(2), "rate", 45);
    boolean toldWhy = false;
    JsonNode status;
    do {
      status = as(2).get("/jobs/" + capped).json();
      toldWhy |= status.path("waiting_for").asText("").contains("requests per minute");
      Thread.sleep(50);
    } while (!status.get("state").asText().equals("succeeded") && System.nanoTime() < deadline);
    double took = (System.nanoTime() - started) / 1e9;
    assertEquals("succeeded", status.get("state").asText());
    // 300 a minute is 5 a second after a burst of 25: the other 20 take 4 s.
    assertTrue(took > 3.0, "45 requests at 300 a minute took " + took + " s");
    assertTrue(toldWhy, "the job said what it waited for");

    String narrow = submit(as(3), "narrow", 60, "sim-narrow");
    assertEquals("succeeded", as(3).awaitState(narrow, "succeeded", Duration.ofMinutes(1)).get("state").asText());
    long most = narrowSim.simulator.stats().maxInFlight();
    assertTrue(most >= 1 && most <= 4, "team-d's cap of 4 records in flight: " + most + " calls were in flight at once");
    assertEquals(60, narrowSim.simulator.stats().requests());
  }
}
