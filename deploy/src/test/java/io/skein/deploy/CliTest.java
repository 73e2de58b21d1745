package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.deploy.sim.ModelSimulator;
import io.skein.deploy.sim.SimulatorSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code skein run} as a user runs it: a JVM of its own, files in, files and an exit code out. */
class CliTest {

  private static final String SECRET = "sk-skein-test-SECRET-4f2a9c";
  private static TestSimulator sim;
  private static ModelSimulator simulator;

  @TempDir
  Path dir;

  @BeforeAll
  static void start() throws Exception {
    sim = new TestSimulator(new SimulatorSettings(1, 0, 0, 0, 0, 1, 1, SECRET));
    simulator = sim.simulator;
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  private static List<JsonNode> rows(Path file) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      out.add(Http.JSON.readTree(line));
    }
    return out;
  }

  private SkeinProcess run(String name, Map<String, String> env, String... args) throws Exception {
    return SkeinProcess.start(dir.resolve(name + ".log"), env, args);
  }

  @Test
  void theExampleRunsAndARerunWritesTheSameRowsWithoutCallingModels() throws Exception {
    Path out = dir.resolve("out/writer.jsonl");
    String[] args = {"run", "../examples/writer-editor.yaml", "--limit", "3", "--output", out.toString(),
        "--data-dir", dir.resolve("data").toString()};
    Map<String, String> env = Map.of("SKEIN_SIM_LATENCY", "5ms");
    try (SkeinProcess first = run("first", env, args)) {
      assertEquals(0, first.awaitExit(Duration.ofMinutes(2)), first.output());
    }
    List<JsonNode> rows = rows(out);
    assertEquals(3, rows.size());
    assertEquals("doc01", rows.get(0).get("id").asText());
    assertEquals(3, rows.get(0).get("messages").size());
    assertEquals("Write a blog post about the history of tea.", rows.get(0).at("/messages/1/content").asText());
    assertTrue(rows.get(0).has("score"));
    assertEquals(0, Files.readAllLines(dir.resolve("out/writer.errors.jsonl")).size());

    String firstOutput = Files.readString(out);
    Files.delete(out);
    try (SkeinProcess again = run("again", env, args)) {
      assertEquals(0, again.awaitExit(Duration.ofMinutes(2)), again.output());
      assertTrue(again.output().contains("already succeeded"), again.output());
      assertTrue(again.output().contains(" 12 calls"), "the counts are the first run's: " + again.output());
    }
    assertEquals(firstOutput, Files.readString(out), "the same rows, from the ledger");

    String[] store = {"--data-dir", dir.resolve("data").toString()};
    String id;
    try (SkeinProcess list = run("list", Map.of(), concat(new String[] {"jobs", "list"}, store))) {
      assertEquals(0, list.awaitExit(Duration.ofMinutes(1)), list.output());
      assertTrue(list.output().contains("succeeded") && list.output().contains("3/3"), list.output());
      id = list.output().lines().filter(l -> l.startsWith("job-")).findFirst().orElseThrow().split(" ")[0];
    }
    try (SkeinProcess delete = run("delete", Map.of(), concat(new String[] {"jobs", "delete", id, "job-unknown"}, store))) {
      assertEquals(1, delete.awaitExit(Duration.ofMinutes(1)), "one of the two was unknown: " + delete.output());
      assertTrue(delete.output().contains("deleted " + id) && delete.output().contains("no job `job-unknown`"), delete.output());
    }
    Files.delete(out);
    try (SkeinProcess third = run("third", env, args)) {
      assertEquals(0, third.awaitExit(Duration.ofMinutes(2)), third.output());
      assertFalse(third.output().contains("already succeeded"), "the deleted job is a new job now: " + third.output());
    }
    assertEquals(firstOutput, Files.readString(out), "the same rows again, its calls answered by the response cache");
  }

  private static String[] concat(String[] a, String[] b) {
    return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
  }

  @Test
  void aBadSpecExitsNonZeroNamingEveryProblem() throws Exception {
    Path spec = dir.resolve("bad.yaml");
    Files.writeString(spec, """
        name: bad
        models: {m: sim-small}
        input: {num_records: 2}
        steps:
          - {name: a, model: n, prompt: "{{ missing }}"}
          - {name: b, continue: nope, prompt: "x"}
        """);
    try (SkeinProcess p = run("bad", Map.of(), "run", spec.toString(), "--data-dir", dir.resolve("data").toString())) {
      assertEquals(2, p.awaitExit(Duration.ofMinutes(1)));
      String out = p.output();
      assertTrue(out.contains("steps[0] (a).model: unknown model alias `n`"), out);
      assertTrue(out.contains("steps[1] (b).continue: continues step `nope`, which does not exist"), out);
    }
    Files.writeString(spec, "name: [unclosed");
    try (SkeinProcess p = run("yaml", Map.of(), "run", spec.toString())) {
      assertEquals(2, p.awaitExit(Duration.ofMinutes(1)));
      assertTrue(p.output().contains("malformed YAML at line 1"), p.output());
    }
  }

  @Test
  void aMalformedInputLineIsAnErrorRowWithItsLineNumber() throws Exception {
    Path input = dir.resolve("in.jsonl");
    Files.writeString(input, "{\"id\": \"a\", \"kind\": \"memo\", \"subject\": \"tea\"}\n{\"id\": \"b\", broken\n"
        + "{\"id\": \"c\", \"kind\": \"memo\", \"subject\": \"maps\"}\n");
    Files.write(input, new byte[] {'{', '"', 'i', 'd', '"', ':', '"', 'd', (byte) 0xe9, '"', '}', '\n'}, java.nio.file.StandardOpenOption.APPEND);
    Path out = dir.resolve("rows.jsonl");
    try (SkeinProcess p = run("input", Map.of("SKEIN_SIM_LATENCY", "1ms"), "run", "../examples/writer-editor.yaml",
        "--input", input.toString(), "--output", out.toString(), "--data-dir", dir.resolve("data").toString())) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
    }
    assertEquals(List.of("a", "c"), rows(out).stream().map(r -> r.get("id").asText()).toList());
    List<JsonNode> errors = rows(dir.resolve("rows.errors.jsonl"));
    assertEquals(2, errors.size());
    assertTrue(errors.get(0).at("/error/message").asText().startsWith("line 2: malformed JSON"), errors.get(0).toString());
    assertTrue(errors.get(1).at("/error/message").asText().startsWith("line 4: not UTF-8"), errors.get(1).toString());
  }

  @Test
  void anEndpointThatRefusesConnectionsPausesTheJobInsteadOfFailingItsRecords() throws Exception {
    Path spec = dir.resolve("down.yaml");
    Files.writeString(spec, """
        name: down
        models: {m: sim-small}
        retry: {initial_backoff: 100ms, max_backoff: 200ms, pause_after: 2s}
        input: {records: [{id: d1, topic: a}, {id: d2, topic: b}, {id: d3, topic: c}]}
        steps:
          - {name: a, model: m, prompt: "About {{ topic }}"}
        """);
    int closed = SkeinProcess.freePort();
    try (SkeinProcess p = run("down", Map.of("OPENAI_BASE_URL", "http://127.0.0.1:" + closed + "/v1", "OPENAI_API_KEY", "k"),
        "run", spec.toString(), "--output", dir.resolve("down.jsonl").toString(), "--data-dir", dir.resolve("data").toString())) {
      assertEquals(RunCommand.PAUSED_EXIT, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains("provider_unavailable"), p.output());
      assertTrue(p.output().contains("Run the same command again to resume it."), p.output());
    }
    assertFalse(Files.exists(dir.resolve("down.errors.jsonl")) && Files.size(dir.resolve("down.errors.jsonl")) > 0, "no record failed");
  }

  @Test
  void hostileTemplatesAreErrorRowsWithinTheRenderBudget() throws Exception {
    Path spec = dir.resolve("hostile.yaml");
    Files.writeString(spec, """
        name: hostile
        models: {m: sim-small}
        input: {records: [{id: h1, n: 1}, {id: h2, n: 2}, {id: h3, n: 3}]}
        steps:
          - name: a
            model: m
            prompt: "{% if n == 1 %}{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}{% elif n == 2 %}{{ range(1000000000)|length }}{% else %}{{ ''.getClass() }}{% endif %}"
        """);
    long start = System.nanoTime();
    try (SkeinProcess p = run("hostile", Map.of("SKEIN_SIM_LATENCY", "1ms"), "run", spec.toString(), "-q",
        "--output", dir.resolve("hostile.jsonl").toString(), "--data-dir", dir.resolve("data").toString())) {
      assertEquals(1, p.awaitExit(Duration.ofMinutes(1)), "every record failed, so the job did: " + p.output());
    }
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(45).toNanos(), "cut off within the budget, not left to loop");
    List<JsonNode> errors = rows(dir.resolve("hostile.errors.jsonl"));
    assertEquals(3, errors.size());
    for (JsonNode e : errors) {
      assertEquals("template_error", e.at("/error/type").asText(), e.toString());
    }
    assertTrue(errors.get(0).at("/error/message").asText().contains("ran past its budget"), errors.get(0).toString());
    assertTrue(errors.get(1).at("/error/message").asText().contains("a template may loop over at most 1000"), errors.get(1).toString());
    assertTrue(errors.get(2).at("/error/message").asText().contains("method calls are not allowed"), errors.get(2).toString());
  }

  @Test
  void aJobWhoseRecordsAllFailEndsFailedAndExitsNonZero() throws Exception {
    Path spec = dir.resolve("all-fail.yaml");
    Files.writeString(spec, """
        name: all-fail
        models: {m: sim-small}
        input: {num_records: 3}
        steps:
          - {name: a, model: m, prompt: "About {{ index }}"}
          - {name: short, kind: validator, validator: length, target: a, max: 1, on_fail: error}
        """);
    try (SkeinProcess p = run("all-fail", Map.of("SKEIN_SIM_LATENCY", "1ms"), "run", spec.toString(),
        "--output", dir.resolve("f.jsonl").toString(), "--data-dir", dir.resolve("data").toString())) {
      assertEquals(1, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains(" failed: 0 output rows"), p.output());
    }
    assertEquals(3, rows(dir.resolve("f.errors.jsonl")).size());
  }

  @Test
  void noCommandIsAUsageErrorAndAStoppedRunSaysHowToResume() throws Exception {
    try (SkeinProcess p = run("bare", Map.of())) {
      assertEquals(2, p.awaitExit(Duration.ofMinutes(1)), p.output());
      assertTrue(p.output().contains("run") && p.output().contains("Usage: skein"), p.output());
    }
    String[] args = {"run", "../examples/support-qa.yaml", "--output", dir.resolve("qa.jsonl").toString(), "--data-dir", dir.resolve("data").toString()};
    try (SkeinProcess p = run("stopped", Map.of("SKEIN_SIM_LATENCY", "2s"), args)) {
      SkeinProcess.await("the job to start", Duration.ofMinutes(1), () -> p.output().contains("records"), p);
      p.terminate();
      assertTrue(p.output().contains("Interrupted: job job-") && p.output().contains("Run the same command again to resume it."), p.output());
    }
    try (SkeinProcess p = run("resumed", Map.of("SKEIN_SIM_LATENCY", "1ms"), args)) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains("Resuming job"), p.output());
    }
  }

  @Test
  void aLocalRunWithAnHttpPortServesTheDashboardWhileItRuns() throws Exception {
    int port = SkeinProcess.freePort();
    try (SkeinProcess p = run("watched", Map.of("SKEIN_SIM_LATENCY", "1s"), "run", "../examples/support-qa.yaml", "--limit", "2",
        "--http-port", String.valueOf(port), "--output", dir.resolve("watched.jsonl").toString(), "--data-dir", dir.resolve("watched").toString())) {
      SkeinProcess.await("the dashboard's address", Duration.ofMinutes(1), () -> p.output().contains("Watch it at http://127.0.0.1:" + port + "/#/jobs/job-"), p);
      Http http = new Http(port);
      JsonNode jobs = http.get("/jobs").json().get("jobs");
      assertEquals(1, jobs.size(), jobs.toString());
      assertTrue(p.output().contains(jobs.get(0).get("id").asText()), p.output());
      assertEquals(200, http.get("/").status(), "the dashboard");
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
    }
  }

  @Test
  void aBusyPortIsOneLineSayingWhatToDoAndQuietPrintsOnlyTheSummary() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
         SkeinProcess p = run("busy", Map.of(), "node", "--http-port", String.valueOf(taken.getLocalPort()), "--port", "0",
             "--data-dir", dir.resolve("busy").toString())) {
      assertEquals(1, p.awaitExit(Duration.ofMinutes(1)), p.output());
      assertTrue(p.output().contains("skein node: could not start:") && p.output().contains("pass another --http-port"), p.output());
      assertFalse(p.output().contains("\tat ") || p.output().contains("BindException"), "no stack trace: " + p.output());
    }
    try (SkeinProcess p = run("quiet", Map.of("SKEIN_SIM_LATENCY", "1ms"), "run", "../examples/support-qa.yaml", "-q", "--limit", "2",
        "--output", dir.resolve("quiet.jsonl").toString(), "--data-dir", dir.resolve("quiet").toString())) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
      List<String> lines = p.output().lines().filter(l -> !l.isBlank()).toList();
      assertEquals(1, lines.size(), "only the summary: " + p.output());
      assertTrue(lines.get(0).contains("succeeded: 2 output rows"), p.output());
    }
  }

  @Test
  void aPasswordOnTheCommandLineIsRefused() throws Exception {
    try (SkeinProcess p = run("password", Map.of(), "run", "../examples/support-qa.yaml", "--db-password", "hunter2",
        "--data-dir", dir.resolve("data").toString())) {
      assertEquals(2, p.awaitExit(Duration.ofMinutes(1)), "a usage error: " + p.output());
      assertTrue(p.output().contains("set SKEIN_DB_PASSWORD or pass --db-password-file FILE"), p.output());
    }
  }

  @Test
  void anUnreadableInputFileIsOneLineNamingItNotAStackTrace() throws Exception {
    Path input = dir.resolve("in.parquet");
    Files.writeString(input, "id,subject\na,tea\n");
    try (SkeinProcess p = run("parquet-in", Map.of(), "run", "../examples/writer-editor.yaml",
        "--input", input.toString(), "--output", dir.resolve("rows.jsonl").toString(), "--data-dir", dir.resolve("data").toString())) {
      assertEquals(1, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains("skein run: in.parquet is not a Parquet file Skein can read: "), p.output());
      assertFalse(p.output().contains("\tat "), "no stack trace: " + p.output());
    }
  }

  @Test
  void aWrongApiKeyPausesTheJobAndARerunWithTheRightKeyResumesItWithoutTheKeyReachingDiskOrLogs() throws Exception {
    Path spec = dir.resolve("secret.yaml");
    Files.writeString(spec, """
        name: secret
        models: {m: sim-small}
        input:
          records:
            - {id: s1, topic: "marker-topic-7731"}
            - {id: s2, topic: "another"}
        steps:
          - {name: a, model: m, prompt: "About {{ topic }}"}
        """);
    Path out = dir.resolve("secret.jsonl");
    Path data = dir.resolve("data");
    String[] args = {"run", spec.toString(), "--output", out.toString(), "--annotated", "--data-dir", data.toString()};
    long before = simulator.stats().requests();

    Map<String, String> wrong = Map.of("OPENAI_BASE_URL", simulator.baseUrl(), "OPENAI_API_KEY", SECRET + "-wrong", "SKEIN_LOG_LEVEL", "DEBUG");
    try (SkeinProcess p = run("wrong", wrong, args)) {
      assertEquals(RunCommand.PAUSED_EXIT, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains("paused after 0 of 2 records"), p.output());
      assertTrue(p.output().contains("model `m` refused 2 records (unauthorized"), p.output());
      assertTrue(p.output().contains("Run the same command again to resume it."), p.output());
      assertFalse(p.output().contains(SECRET), "the log holds no key");
    }
    assertEquals(2, simulator.stats().requests() - before, "one refused call per record, none retried");
    assertFalse(Files.exists(dir.resolve("secret.errors.jsonl")), "no record failed");

    Map<String, String> right = Map.of("OPENAI_BASE_URL", simulator.baseUrl(), "OPENAI_API_KEY", SECRET, "SKEIN_LOG_LEVEL", "DEBUG");
    try (SkeinProcess p = run("right", right, args)) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
      assertTrue(p.output().contains("Resuming paused job"), p.output());
      assertFalse(p.output().contains(SECRET), "the log holds no key");
    }
    List<JsonNode> rows = rows(out);
    assertEquals(2, rows.size(), "the simulator required the key, so it was sent");
    assertEquals(0, rows(dir.resolve("secret.errors.jsonl")).size());
    JsonNode attempts = rows.get(0).at("/calls/0");
    assertEquals(2, attempts.get("attempts").asInt(), "the refused attempt and the one after the resume: " + attempts);
    assertEquals("unauthorized", attempts.at("/failures/0/error_type").asText());
    assertEquals(4, simulator.stats().requests() - before);

    byte[] marker = "marker-topic-7731".getBytes(StandardCharsets.UTF_8);
    byte[] secret = SECRET.getBytes(StandardCharsets.UTF_8);
    boolean markerSeen = false;
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        byte[] bytes = Files.readAllBytes(f);
        assertFalse(contains(bytes, secret), "the key is in " + f);
        markerSeen |= f.startsWith(data) && contains(bytes, marker);
      }
    }
    assertTrue(markerSeen, "the database files are searchable (the input is found in them)");
  }

  @Test
  void validatePrintsTheStepGraphAndPreviewRunsRecordsWithoutAJob() throws Exception {
    try (SkeinProcess text = run("validate", Map.of(), "validate", "../examples/text-to-sql.yaml")) {
      assertEquals(0, text.awaitExit(Duration.ofMinutes(1)), text.output());
      assertTrue(text.output().contains("Runs in 3 rounds: [difficulty] -> [query] -> [query_check, explanation]"), text.output());
    }
    try (SkeinProcess mermaid = run("mermaid", Map.of(), "validate", "../examples/product-qa.yaml", "--format", "mermaid")) {
      assertEquals(0, mermaid.awaitExit(Duration.ofMinutes(1)), mermaid.output());
      assertTrue(mermaid.output().startsWith("flowchart TD") && mermaid.output().contains("category --> product_type")
          && mermaid.output().contains("in_store --> product"), mermaid.output());
    }
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "name: b\nmodels: {m: sim-small}\ninput: {num_records: 1}\nsteps:\n  - {name: a, kind: sampler, sampler: uuid, promt: x}\n");
    try (SkeinProcess invalid = run("invalid", Map.of(), "validate", bad.toString())) {
      assertEquals(2, invalid.awaitExit(Duration.ofMinutes(1)));
      assertTrue(invalid.output().contains("steps[0] (a).promt: unknown field for a sampler step"), invalid.output());
    }
    Path data = dir.resolve("preview-data");
    try (SkeinProcess preview = run("preview", Map.of("SKEIN_SIM_LATENCY", "1ms"), "preview", "../examples/product-qa.yaml", "-n", "2",
        "--json", "--data-dir", data.toString())) {
      assertEquals(0, preview.awaitExit(Duration.ofMinutes(2)), preview.output());
      String out = preview.output();
      JsonNode rows = Http.JSON.readTree(out.substring(out.indexOf('[')));
      assertEquals(2, rows.size());
      assertEquals("s01", rows.get(0).get("id").asText());
      assertTrue(rows.get(1).at("/product/features").isArray(), rows.toString());
    }
    try (var c = java.sql.DriverManager.getConnection("jdbc:h2:file:" + data.toAbsolutePath().resolve("skein"));
        var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM skein_jobs")) {
      rs.next();
      assertEquals(0, rs.getInt(1), "a preview keeps no job");
    }
  }

  @Test
  void runWritesParquetWhenAsked() throws Exception {
    Path out = dir.resolve("qa.parquet");
    try (SkeinProcess p = run("parquet", Map.of("SKEIN_SIM_LATENCY", "1ms"), "run", "../examples/support-qa.yaml", "--limit", "3",
        "--format", "parquet", "--output", out.toString(), "--data-dir", dir.resolve("pq").toString())) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
    }
    List<JsonNode> rows = new ArrayList<>();
    var it = io.skein.coordinator.job.InputFiles.parquet(out, new java.util.HashSet<>());
    while (it.hasNext()) {
      rows.add(Http.JSON.readTree(it.next().record()));
    }
    assertEquals(3, rows.size());
    assertEquals("q001", rows.get(0).get("id").asText());
    assertEquals(4, Http.JSON.readTree(rows.get(0).get("messages").asText()).size(), "messages as JSON text");
    assertTrue(Files.exists(dir.resolve("qa.errors.parquet")), "error rows beside it, as Parquet too");

    // A Parquet file another implementation wrote (pyarrow), as the input of a run.
    Path input = dir.resolve("reviews.parquet");
    Files.write(input, CliTest.class.getResourceAsStream("/inputs/pyarrow-written.parquet").readAllBytes());
    Path spec = dir.resolve("reviews.yaml");
    Files.writeString(spec, """
        name: reviews
        models: {m: sim-small}
        input: {file: reviews.parquet}
        steps:
          - {name: blurb, model: m, prompt: "Sell {{ topic or 'anything' }} with {{ stars }} stars for {{ price }}"}
        """);
    Path blurbs = dir.resolve("blurbs.jsonl");
    try (SkeinProcess p = run("parquet-in", Map.of("SKEIN_SIM_LATENCY", "1ms"), "run", spec.toString(), "--output", blurbs.toString(),
        "--data-dir", dir.resolve("pq2").toString(), "--annotated")) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
    }
    List<JsonNode> sold = rows(blurbs);
    assertEquals(List.of("p1", "p2", "p3"), sold.stream().map(r -> r.get("id").asText()).toList());
    assertEquals(5, sold.get(1).get("stars").asInt());
    assertEquals("Sell tea with 4 stars for 1.5", sold.get(0).at("/calls/0/messages/0/content").asText());
    assertEquals("Sell anything with 3 stars for 3.0", sold.get(2).at("/calls/0/messages/0/content").asText(), "a null topic");
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
