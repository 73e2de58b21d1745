package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.coordinator.http.ApiTokens;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants on one node: a job, a file and a batch belong to the tenant whose token made them. Another
 * tenant's token gets the 404 an unknown one gets on every endpoint, and its lists do not show them;
 * an admin sees everything. Tenants' tokens are made, listed and revoked at run time by an admin,
 * with the CLI as with HTTP.
 */
class TenantsTest {

  private static final String ROOT = "root-token-5f8a1c2e9b7d3f60";
  private static final String ALICE = "alice-token-0e4b7a9c2d1f8e35";
  private static final String SPEC = """
      name: owned
      models: {m: sim-small}
      input: {num_records: 4}
      steps:
        - {name: a, model: m, prompt: "{{ index }}"}
      """;
  private static final String LINE = "{\"custom_id\": \"c%d\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\","
      + " \"body\": {\"model\": \"sim-small\", \"messages\": [{\"role\": \"user\", \"content\": \"q%d\"}]}}\n";

  @TempDir
  static Path dir;
  private static SkeinNode node;
  private static Http root;
  private static Http alice;

  @BeforeAll
  static void start() throws Exception {
    Path config = Files.writeString(dir.resolve("tenants.conf"), """
        skein.simulator.latency = 2ms
        skein.http.auth.tokens = [
          {name = root, sha256 = "%s"},
          {name = alice, sha256 = "%s", tenant = team-a},
        ]
        """.formatted(ApiTokens.sha256(ROOT), ApiTokens.sha256(ALICE)));
    node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true));
    root = new Http(node.httpPort()).withToken(ROOT);
    alice = new Http(node.httpPort()).withToken(ALICE);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  private static byte[] upload(String lines) {
    String b = "----tenants";
    return ("--" + b + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--" + b
        + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.jsonl\"\r\n\r\n" + lines + "\r\n--" + b + "--\r\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static JsonNode awaitBatch(Http http, String id) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (true) {
      JsonNode b = http.get("/v1/batches/" + id).json();
      if (b.get("status").asText().equals("completed")) {
        return b;
      }
      assertTrue(System.nanoTime() < deadline, "the batch did not complete: " + b);
      Thread.sleep(50);
    }
  }

  private static String bobToken() throws Exception {
    Http.Response made = root.post("/tokens", "application/json", "{\"name\": \"bob\", \"tenant\": \"team-b\"}");
    assertEquals(201, made.status(), made.body());
    assertEquals("team-b", made.json().get("tenant").asText());
    String token = made.json().get("token").asText();
    assertTrue(token.startsWith("sk-skein-"), "a new random token, shown once");
    assertFalse(root.get("/tokens").body().contains(token), "the list names holders, never tokens");
    assertEquals(409, root.post("/tokens", "application/json", "{\"name\": \"bob\", \"tenant\": \"team-b\"}").status(),
        "a name is one token");
    return token;
  }

  @Test
  void anotherTenantFindsNothingOfATenantsJobsFilesAndBatchesOnAnyEndpoint() throws Exception {
    Http.Response submitted = alice.post("/jobs", "application/yaml", SPEC);
    assertEquals(201, submitted.status(), submitted.body());
    String job = submitted.json().get("id").asText();
    alice.awaitState(job, "succeeded", Duration.ofMinutes(1));
    String type = "multipart/form-data; boundary=----tenants";
    String file = alice.post("/v1/files", type, upload(LINE.formatted(1, 1) + LINE.formatted(2, 2))).json().get("id").asText();
    Http.Response created = alice.post("/v1/batches", "application/json",
        "{\"input_file_id\": \"" + file + "\", \"endpoint\": \"/v1/chat/completions\", \"completion_window\": \"24h\"}");
    assertEquals(200, created.status(), created.body());
    String batch = created.json().get("id").asText();
    JsonNode done = awaitBatch(alice, batch);
    String output = done.get("output_file_id").asText();

    Http bob = new Http(node.httpPort()).withToken(bobToken());
    for (String path : List.of("/jobs/" + job, "/jobs/" + job + "/results", "/jobs/" + job + "/errors", "/jobs/" + job + "/events",
        "/jobs/" + job + "/usage", "/jobs/" + job + "/records/0", "/jobs/" + job + "/results?format=parquet",
        "/jobs/" + job + "/datasets/extras", "/jobs/" + job + "/stages/s/results", "/v1/files/" + file, "/v1/files/" + file + "/content",
        "/v1/files/" + output, "/v1/files/" + output + "/content", "/v1/batches/" + batch)) {
      Http.Response r = bob.get(path);
      assertEquals(404, r.status(), path + ": " + r.body());
      assertFalse(r.body().contains("team-a"), "nothing is told of the owner: " + r.body());
    }
    for (String path : List.of("/jobs/" + job + "/cancel", "/jobs/" + job + "/pause", "/jobs/" + job + "/resume",
        "/jobs/" + job + "/retry-failed", "/v1/batches/" + batch + "/cancel")) {
      assertEquals(404, bob.post(path, "application/json", "").status(), path);
    }
    assertEquals(404, bob.delete("/jobs/" + job).status());
    assertEquals(404, bob.delete("/v1/files/" + file).status());
    assertEquals(404, bob.post("/v1/batches", "application/json", "{\"input_file_id\": \"" + file
        + "\", \"endpoint\": \"/v1/chat/completions\", \"completion_window\": \"24h\"}").status(), "another tenant's file cannot be run");
    assertEquals(0, bob.get("/jobs").json().get("jobs").size());
    assertEquals(0, bob.get("/v1/files").json().get("data").size());
    assertEquals(0, bob.get("/v1/batches").json().get("data").size());
    assertEquals(403, bob.get("/cluster").status(), "the cluster's state is an admin's");
    assertEquals(403, bob.get("/tokens").status());

    assertEquals("succeeded", alice.get("/jobs/" + job).json().get("state").asText(), "nothing bob tried touched it");
    assertEquals(4, alice.get("/jobs/" + job + "/results").lines().size());
    assertEquals(200, alice.get("/v1/files/" + file).status());
    List<String> names = new java.util.ArrayList<>();
    alice.get("/jobs").json().get("jobs").forEach(j -> names.add(j.get("name").asText()));
    assertEquals(java.util.Set.of("owned", batch), java.util.Set.copyOf(names), "her job and her batch's job, nobody else's");
    assertEquals(200, alice.get("/v1/files/" + output + "/content").status());
    assertTrue(ids(root.get("/jobs").json().get("jobs")).contains(job), "an admin sees every tenant's jobs");
    assertEquals(200, root.get("/v1/batches/" + batch).status());
    assertEquals(200, root.get("/cluster").status());

    // bob's own job is his, and alice does not see it.
    String his = bob.post("/jobs", "application/yaml", SPEC).json().get("id").asText();
    assertEquals(404, alice.get("/jobs/" + his).status());
    assertEquals(200, bob.get("/jobs/" + his).status());
  }

  private static List<String> ids(JsonNode jobs) {
    List<String> out = new java.util.ArrayList<>();
    jobs.forEach(j -> out.add(j.get("id").asText()));
    return out;
  }

  @Test
  void aRevokedTokenIsRefusedWithinSeconds() throws Exception {
    Http.Response made = root.post("/tokens", "application/json", "{\"name\": \"carol\", \"tenant\": \"team-c\"}");
    Http carol = new Http(node.httpPort()).withToken(made.json().get("token").asText());
    assertEquals(200, carol.get("/jobs").status());
    assertEquals(403, carol.post("/tokens", "application/json", "{\"name\": \"eve\", \"admin\": true}").status(),
        "a tenant makes no tokens");
    assertEquals(204, root.delete("/tokens/carol").status());
    long deadline = System.nanoTime() + ApiTokens.CACHE_TTL.plusSeconds(5).toNanos();
    while (carol.get("/jobs").status() != 401) {
      assertTrue(System.nanoTime() < deadline, "carol's token still works " + ApiTokens.CACHE_TTL + " after it was revoked");
      Thread.sleep(100);
    }
    assertEquals(404, root.delete("/tokens/carol").status());
  }

  @Test
  void theCliMakesListsAndRevokesTokens() throws Exception {
    Map<String, String> env = Map.of("SKEIN_SERVER", "http://127.0.0.1:" + node.httpPort(), "SKEIN_TOKEN", ROOT);
    String token;
    try (SkeinProcess p = SkeinProcess.start(dir.resolve("create.log"), env, "tokens", "create", "--name", "dave", "--tenant", "team-d")) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
      Matcher m = Pattern.compile("sk-skein-[A-Za-z0-9_-]+").matcher(p.output());
      assertTrue(m.find(), p.output());
      token = m.group();
    }
    Http dave = new Http(node.httpPort()).withToken(token);
    assertEquals(201, dave.post("/jobs", "application/yaml", SPEC).status());
    try (SkeinProcess p = SkeinProcess.start(dir.resolve("list.log"), env, "tokens", "list")) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains("dave") && p.output().contains("team-d"), p.output());
      assertFalse(p.output().contains(token));
    }
    try (SkeinProcess p = SkeinProcess.start(dir.resolve("revoke.log"), env, "tokens", "revoke", "dave")) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
    }
    try (SkeinProcess p = SkeinProcess.start(dir.resolve("tenant.log"), Map.of("SKEIN_SERVER", "http://127.0.0.1:" + node.httpPort(),
        "SKEIN_TOKEN", ALICE), "tokens", "create", "--name", "mallory", "--admin")) {
      assertEquals(1, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains("403"), p.output());
    }
  }
}
