package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
 * The client commands against a node in another JVM, each command a process of its own as a user
 * runs it: submit (with its records file) and watch to the end, download the rows, pause, resume
 * and cancel, a job's status, delete; and the exit codes {@code skein run} uses — 0 succeeded,
 * 1 failed or refused, 2 a bad spec or no server, 3 paused.
 */
class ClientCommandsTest {

  @TempDir
  static Path dir;

  private static SkeinProcess node;
  private static Http http;
  private static Map<String, String> env;

  @BeforeAll
  static void start() throws Exception {
    int httpPort = SkeinProcess.freePort();
    node = SkeinProcess.start(dir.resolve("node.log"), Map.of("SKEIN_SIM_LATENCY", "40ms"), "node", "--data-dir",
        dir.resolve("data").toString(), "--port", String.valueOf(SkeinProcess.freePort()), "--http-port", String.valueOf(httpPort));
    http = new Http(httpPort);
    SkeinProcess.await("the node's HTTP API", Duration.ofMinutes(2), () -> {
      try {
        return http.get("/health").status() == 200;
      } catch (Exception e) {
        return false;
      }
    }, node);
    env = Map.of("SKEIN_SERVER", "http://127.0.0.1:" + httpPort);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.terminate();
    }
  }

  private static int count = 0;

  /** Runs one command to its end; its exit code and output (stdout and stderr). */
  private static Result skein(Map<String, String> environment, String... args) throws Exception {
    try (SkeinProcess p = SkeinProcess.start(dir.resolve("cli-" + (++count) + ".log"), environment, args)) {
      int code = p.awaitExit(Duration.ofMinutes(3));
      return new Result(code, p.output());
    }
  }

  private static Result skein(String... args) throws Exception {
    return skein(env, args);
  }

  record Result(int code, String output) {
    String job() {
      Matcher m = Pattern.compile("job-[0-9a-f]{16}").matcher(output);
      assertTrue(m.find(), "a job id in: " + output);
      return m.group();
    }
  }

  private static Path spec(String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name + ".yaml"), text);
  }

  @Test
  void submitWithItsRecordsWatchToTheEndAndDownloadTheRows() throws Exception {
    Path records = dir.resolve("topics.jsonl");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 30; i++) {
      lines.append("{\"id\": \"t").append(i).append("\", \"topic\": \"topic ").append(i).append("\"}\n");
    }
    Files.writeString(records, lines);
    Path spec = spec("qa", """
        name: client-qa
        models: {writer: {model: sim-small, max_tokens: 20}}
        input: {file: topics.jsonl}
        steps:
          - {name: question, model: writer, prompt: "Ask about {{ topic }}"}
          - {name: topic_ok, kind: validator, validator: regex, target: topic, pattern: "[1-9]$", on_fail: error}
        processors:
          - {name: pairs, template: {q: "{{ question }}"}}
        """);
    Result submitted = skein("submit", spec.toString(), "--watch");
    assertEquals(0, submitted.code(), submitted.output());
    String id = submitted.job();
    assertTrue(submitted.output().contains(id + " succeeded: 27 succeeded, 3 failed of 30 records"), submitted.output());

    Result status = skein("status", id);
    assertEquals(0, status.code(), status.output());
    assertTrue(status.output().contains(id + " succeeded"), status.output());
    Result json = skein("status", id, "--json");
    assertEquals(http.get("/jobs/" + id).json(), Http.JSON.readTree(json.output().strip()), "--json is the API's status");

    Path out = dir.resolve("rows/qa.jsonl");
    Path pairs = dir.resolve("rows/pairs.jsonl");
    Result results = skein("results", id, "-o", out.toString(), "--dataset", "pairs=" + pairs);
    assertEquals(0, results.code(), results.output());
    assertEquals(http.get("/jobs/" + id + "/results").body(), Files.readString(out), "the output rows, byte for byte");
    assertEquals(http.get("/jobs/" + id + "/errors").body(), Files.readString(dir.resolve("rows/qa.errors.jsonl")), "errors beside them");
    assertEquals(27, Files.readAllLines(pairs).size());
    assertTrue(results.output().contains("27 output rows") && results.output().contains("3 error rows"), results.output());

    Result unknown = skein("results", "job-0000000000000000", "-o", dir.resolve("none.jsonl").toString());
    assertEquals(1, unknown.code(), unknown.output());
    assertTrue(unknown.output().contains("no job `job-0000000000000000`"), unknown.output());
    assertTrue(!Files.exists(dir.resolve("none.jsonl")), "a refused download leaves no file");

    // A retry runs the 3 failed records again from their last answered call: the validator refuses them again, no model is asked.
    long calls = http.get("/jobs/" + id).json().get("calls").asLong();
    Result retried = skein("retry", id, "--watch");
    assertEquals(0, retried.code(), retried.output());
    assertTrue(retried.output().contains(id + " succeeded: 27 succeeded, 3 failed of 30 records"), retried.output());
    JsonNode after = http.get("/jobs/" + id).json();
    assertEquals(calls, after.get("calls").asLong(), "answered calls are not sent again: " + after);
    assertTrue(http.get("/jobs/" + id + "/records/10").body().contains("RecordRetried"), "the retry is in the record's journal");

    Result deleted = skein("delete", id);
    assertEquals(0, deleted.code(), deleted.output());
    assertEquals(404, http.get("/jobs/" + id).status());
  }

  @Test
  void pauseResumeAndCancelAndTheirExitCodes() throws Exception {
    Path spec = spec("long", """
        name: client-long
        models: {writer: {model: sim-small, max_tokens: 20}}
        max_in_flight: 2
        input: {num_records: 400}
        steps:
          - {name: a, model: writer, prompt: "Say {{ index }}"}
        """);
    Result submitted = skein("submit", spec.toString());
    assertEquals(0, submitted.code(), submitted.output());
    String id = submitted.job();
    assertEquals(id, submitted.output().strip(), "submit prints the id alone");

    Result paused = skein("pause", id);
    assertEquals(0, paused.code(), paused.output());
    assertTrue(paused.output().contains(id + " paused"), paused.output());
    Result watched = skein("watch", id);
    assertEquals(3, watched.code(), "a paused job exits 3, as skein run's: " + watched.output());
    assertEquals(3, skein("status", id).code());

    assertEquals(0, skein("resume", id).code());
    assertEquals("running", http.get("/jobs/" + id).json().get("state").asText());
    Result cancelled = skein("cancel", id);
    assertEquals(0, cancelled.code(), cancelled.output());
    Result again = skein("watch", id);
    assertEquals(1, again.code(), "a cancelled job exits 1: " + again.output());
    assertTrue(again.output().contains(id + " cancelled"), again.output());
    Result late = skein("pause", id);
    assertEquals(1, late.code(), late.output());
    assertTrue(late.output().contains("has already cancelled"), late.output());
    Result retry = skein("retry", id);
    assertEquals(1, retry.code(), retry.output());
    assertTrue(retry.output().contains("was cancelled"), retry.output());
  }

  @Test
  void aJobWhoseRecordsAllFailExitsOneABadSpecTwoAndNoServerTwo() throws Exception {
    Path failing = spec("failing", """
        name: client-failing
        models: {writer: sim-small}
        input: {num_records: 5}
        steps:
          - {name: a, model: writer, prompt: "Say {{ index }}"}
          - {name: never, kind: validator, validator: regex, target: a, pattern: "^never$", on_fail: error}
        """);
    Result failed = skein("submit", failing.toString(), "--watch");
    assertEquals(1, failed.code(), failed.output());
    assertTrue(failed.output().contains("failed: 0 succeeded, 5 failed of 5 records"), failed.output());

    Path bad = spec("bad", """
        name: client-bad
        models: {writer: sim-small}
        input: {num_records: 5}
        steps:
          - {name: a, model: writer, prompt: "Say {{ nothing }}"}
          - {name: b, model: writer, prompt: "Say {{ neither }}"}
        """);
    Result refused = skein("submit", bad.toString());
    assertEquals(2, refused.code(), refused.output());
    assertTrue(refused.output().contains("refused the job"), refused.output());
    assertTrue(refused.output().contains("steps[0]") && refused.output().contains("nothing")
        && refused.output().contains("steps[1]") && refused.output().contains("neither"), "every problem, each where it is: " + refused.output());

    Result noServer = skein(Map.of(), "watch", "job-0000000000000000");
    assertEquals(2, noServer.code(), noServer.output());
    assertTrue(noServer.output().contains("give --server URL or set SKEIN_SERVER"), noServer.output());
    List<String> completion = skein(Map.of(), "generate-completion").output().lines().toList();
    assertTrue(completion.stream().anyMatch(l -> l.contains("submit")) && completion.stream().anyMatch(l -> l.contains("complete")),
        "a completion script naming the commands");
  }
}
