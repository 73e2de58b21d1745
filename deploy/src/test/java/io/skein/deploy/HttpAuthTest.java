package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.coordinator.http.ApiTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with API tokens: every resource but {@code /health} and the dashboard's files (and
 * {@code /metrics} while it is open) answers 401 problem+json without one of its tokens, even a path that does not exist; with
 * one, the API works as before. Tokens reach a node from its config (as hashes) or from
 * {@code SKEIN_API_TOKENS}, and the CLI sends {@code SKEIN_TOKEN}.
 */
class HttpAuthTest {

  private static final String TOKEN = "test-token-7c1e0b9a44d2f6e3";
  private static final String SPEC = """
      name: guarded
      models: {m: sim-small}
      input: {num_records: 3}
      steps:
        - {name: a, model: m, prompt: "{{ index }}"}
      """;

  private static SkeinNode node(Path dir, String authConfig) throws Exception {
    Path config = dir.resolve("auth.conf");
    Files.writeString(config, "skein.simulator.latency = 5ms\nskein.http.auth {" + authConfig + "}\n");
    return SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true));
  }

  private static void refused(Http.Response r, String detail) {
    assertEquals(401, r.status(), r.body());
    assertTrue(r.contentType().startsWith("application/problem+json"), r.contentType());
    assertEquals("Bearer realm=\"skein\"", r.header("WWW-Authenticate"));
    assertTrue(r.json().get("detail").asText().contains(detail), r.body());
    assertFalse(r.body().contains(TOKEN));
  }

  @Test
  void withoutATokenOnlyHealthAndMetricsAnswer(@TempDir Path dir) throws Exception {
    try (SkeinNode node = node(dir, "tokens = [{name = ci, sha256 = \"" + ApiTokens.sha256(TOKEN) + "\"}]")) {
      Http anonymous = new Http(node.httpPort());
      refused(anonymous.get("/jobs"), "send `Authorization: Bearer <token>`");
      refused(anonymous.post("/jobs", "application/yaml", SPEC), "send `Authorization: Bearer <token>`");
      refused(anonymous.get("/cluster"), "asks for a token");
      refused(anonymous.get("/schema"), "asks for a token");
      refused(anonymous.get("/no/such/path"), "asks for a token");
      refused(anonymous.withToken(TOKEN + "x").get("/jobs"), "carries no token this server accepts");
      refused(anonymous.withAuthorization("Basic " + TOKEN).get("/jobs"), "carries no token this server accepts");
      assertEquals(200, anonymous.get("/health").status());
      assertEquals(200, anonymous.get("/metrics").status());

      Http http = anonymous.withToken(TOKEN);
      String job = http.submitJob(SPEC, null);
      JsonNode done = http.awaitState(job, "succeeded", Duration.ofMinutes(1));
      assertEquals(3, done.get("succeeded").asInt());
      assertEquals(3, http.get("/jobs/" + job + "/results").lines().size());
      assertEquals(200, http.get("/cluster").status());
      refused(anonymous.get("/jobs/" + job + "/results"), "asks for a token");
      refused(anonymous.get("/jobs/" + job + "/events"), "asks for a token");
      refused(anonymous.get("/jobs/" + job + "/records/0"), "asks for a token");
      assertEquals(200, http.get("/jobs/" + job + "/records/0").status());
      // The dashboard's files hold no data: they load without a token and ask the person for one.
      assertEquals(200, anonymous.get("/").status());
      assertEquals(200, anonymous.get("/ui/app.js").status());
    }
  }

  @Test
  void closedMetricsAskForATokenToo(@TempDir Path dir) throws Exception {
    try (SkeinNode node = node(dir, "tokens = [{name = prometheus, sha256 = \"" + ApiTokens.sha256(TOKEN) + "\"}]\nmetrics-open = off")) {
      Http anonymous = new Http(node.httpPort());
      refused(anonymous.get("/metrics"), "asks for a token");
      assertEquals(200, anonymous.get("/health").status());
      Http.Response scrape = anonymous.withToken(TOKEN).get("/metrics");
      assertEquals(200, scrape.status());
      assertTrue(scrape.body().contains("skein_records_in_flight"), scrape.body());
    }
  }

  @Test
  void tokensFromTheEnvironmentGuardANodeAndTheCliSendsItsOwn(@TempDir Path dir) throws Exception {
    int http = SkeinProcess.freePort();
    String server = "http://127.0.0.1:" + http;
    Map<String, String> env = Map.of("SKEIN_API_TOKENS", "another-token-5d5d5d5d5d5d," + TOKEN, "SKEIN_SIM_LATENCY", "5ms");
    try (SkeinProcess node = SkeinProcess.start(dir.resolve("node.log"), env, "node", "--port", String.valueOf(SkeinProcess.freePort()),
        "--http-port", String.valueOf(http), "--data-dir", dir.resolve("data").toString())) {
      Http anonymous = new Http(http);
      SkeinProcess.await("the node's HTTP API", Duration.ofMinutes(1), () -> {
        try {
          return anonymous.get("/health").status() == 200;
        } catch (Exception e) {
          return false;
        }
      }, node);
      refused(anonymous.get("/jobs"), "asks for a token");
      String job = anonymous.withToken(TOKEN).submitJob(SPEC, null);
      anonymous.withToken(TOKEN).awaitState(job, "succeeded", Duration.ofMinutes(1));

      try (SkeinProcess cli = SkeinProcess.start(dir.resolve("cli.log"), Map.of("SKEIN_TOKEN", TOKEN), "jobs", "list", "--server", server)) {
        assertEquals(0, cli.awaitExit(Duration.ofMinutes(1)), cli.output());
        assertTrue(cli.output().contains(job), cli.output());
      }
      try (SkeinProcess cli = SkeinProcess.start(dir.resolve("anonymous.log"), Map.of(), "jobs", "list", "--server", server)) {
        assertEquals(1, cli.awaitExit(Duration.ofMinutes(1)), cli.output());
        assertTrue(cli.output().contains("answered 401: this server asks for a token"), cli.output());
      }
      assertTrue(node.output().contains("asks for a bearer token (ApiTokens[env-1, env-2] configured)"), node.output());
      assertFalse(node.output().contains(TOKEN), "the node's log never shows a token");
    }
  }

  @Test
  void aNodeBeyondThisMachineAsksForTokensUnlessToldNotTo(@TempDir Path dir) throws Exception {
    Path open = Files.writeString(dir.resolve("open.conf"), "skein.http.host = \"0.0.0.0\"\n");
    IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> SkeinNode.start(
        new NodeOptions(dir.resolve("a"), open, null, null, null, "127.0.0.1", 0, List.of(), 0, true)));
    assertTrue(refused.getMessage().contains("listens on 0.0.0.0") && refused.getMessage().contains("SKEIN_AUTH=off"), refused.getMessage());
    Path off = Files.writeString(dir.resolve("off.conf"), "skein.http.host = \"0.0.0.0\"\nskein.http.auth.required = off\n");
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("b"), off, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      assertEquals(200, new Http(node.httpPort()).get("/jobs").status(), "run open on purpose");
    }
    Path tokens = Files.writeString(dir.resolve("tokens.conf"), "skein.http.host = \"0.0.0.0\"\nskein.http.auth.tokens = [{name = ci, sha256 = \""
        + ApiTokens.sha256(TOKEN) + "\"}]\n");
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("c"), tokens, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      assertEquals(401, new Http(node.httpPort()).get("/jobs").status());
      assertEquals(200, new Http(node.httpPort()).withToken(TOKEN).get("/jobs").status());
    }
    assertEquals(null, SkeinNode.authRefusal("auto", false, false, "127.0.0.1"), "a node on loopback runs open by default");
    assertTrue(SkeinNode.authRefusal("on", false, false, "127.0.0.1").contains("required = on"));
    assertTrue(SkeinNode.authRefusal("maybe", false, true, "127.0.0.1").contains("auto, on or off"));
  }
}
