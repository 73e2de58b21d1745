package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.deploy.sim.SimulatorSettings;
import io.skein.deploy.tools.McpServers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A `skein run` whose records are in the middle of tool loops (three rounds each, through a stdio
 * MCP server the spec names by command), SIGKILLed and run again: every record ends with its three
 * rounds, and no tool call that had finished before the kill runs again (only those in flight, or
 * answered in the kill's last instant, may). `skein preview` of the same spec starts its server too.
 */
class ToolsCrashTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** What "in the kill's last instant" may be: an answer received but not yet in the journal. */
  private static final long JOURNAL_WINDOW_MILLIS = 500;

  private static TestSimulator sim;

  @TempDir
  Path dir;

  @BeforeAll
  static void startSimulator() throws Exception {
    sim = new TestSimulator(new SimulatorSettings(5, 0.2, 0.0, 0.0, 0.0, 3, 0).withAnswers(new SimulatorSettings.Answers(0, 0, false, 3)));
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  @Test
  void aKillInTheMiddleOfToolLoopsRepeatsNoFinishedToolCall() throws Exception {
    Path log = dir.resolve("tool-calls.jsonl");
    Path spec = spec(log);
    Path out = dir.resolve("out.jsonl");
    String[] args = {"run", spec.toString(), "--output", out.toString(), "--data-dir", dir.resolve("data").toString()};
    Map<String, String> env = Map.of("OPENAI_BASE_URL", sim.simulator.baseUrl(), "SKEIN_LOG_LEVEL", "INFO");
    long killedAt;
    try (SkeinProcess first = SkeinProcess.start(dir.resolve("first.log"), env, args)) {
      // Once the first round's tool calls have been in the journal a while, and the later rounds run.
      SkeinProcess.await("tool calls finished 0.8 s ago", Duration.ofMinutes(3), () -> firstEndedAgo(log) >= 800, first);
      killedAt = System.currentTimeMillis();
      first.kill();
    }
    try (SkeinProcess second = SkeinProcess.start(dir.resolve("second.log"), env, args)) {
      assertEquals(0, second.awaitExit(Duration.ofMinutes(3)), second.output());
      assertTrue(second.output().contains("Resuming job"), second.output());
    }

    List<String> rows = Files.readAllLines(out);
    assertEquals(40, rows.size(), "every record ended");
    int toolMessages = 0;
    for (String line : rows) {
      JsonNode trace = JSON.readTree(line).get("answer__trace");
      assertEquals(3, trace.findValues("tool_calls").size(), "three rounds of tools, then the answer: " + trace);
      for (JsonNode m : trace) {
        toolMessages += m.get("role").asText().equals("tool") ? 1 : 0;
      }
    }

    Map<String, Long> firstEnd = new HashMap<>();
    Map<String, Integer> runs = new HashMap<>();
    int afterKill = 0;
    for (JsonNode call : McpServers.log(log)) {
      String key = call.get("key").asText();
      if (call.get("event").asText().equals("start")) {
        runs.merge(key, 1, Integer::sum);
        afterKill += call.get("at").asLong() > killedAt ? 1 : 0;
      } else {
        firstEnd.putIfAbsent(key, call.get("at").asLong());
      }
    }
    assertEquals(toolMessages, runs.size(), "every tool call in the rows ran on the server");
    assertTrue(afterKill > 0, "the kill came before the tool loops ended");
    long settledBeforeKill = firstEnd.values().stream().filter(at -> at < killedAt - JOURNAL_WINDOW_MILLIS).count();
    assertTrue(settledBeforeKill >= 20, "the kill came after many tool calls had finished: " + settledBeforeKill);
    runs.forEach((key, n) -> {
      if (n > 1) {
        Long ended = firstEnd.get(key);
        assertTrue(ended == null || ended >= killedAt - JOURNAL_WINDOW_MILLIS,
            "tool call " + key + " ran " + n + " times though it had finished " + (killedAt - ended) + " ms before the kill");
      }
    });
  }

  /** The spec: 40 records whose step offers the tools of the test MCP server, started from its command. */
  private Path spec(Path log) throws Exception {
    return Files.writeString(dir.resolve("tools.yaml"), """
        name: tools-after-crash
        max_in_flight: 40
        input: {num_records: 40}
        models: {m: {model: sim-small, max_tokens: 40}}
        tools:
          calc:
            command: %s
            args: %s
            env: {TEST_MCP_LOG: %s, TEST_MCP_DELAY_MS: "400"}
            allow: [add, lookup]
        steps:
          - {name: answer, model: m, prompt: "Work out item {{ index }}.", tools: [calc], with_trace: all}
        """.formatted(JSON.writeValueAsString(McpServers.java()), JSON.writeValueAsString(McpServers.args()),
        JSON.writeValueAsString(log.toString())));
  }

  @Test
  void aPreviewStartsTheCommandsOfTheUsersOwnSpec() throws Exception {
    Path log = dir.resolve("preview-calls.jsonl");
    try (SkeinProcess preview = SkeinProcess.start(dir.resolve("preview.log"), Map.of("OPENAI_BASE_URL", sim.simulator.baseUrl()),
        "preview", spec(log).toString(), "-n", "2", "--data-dir", dir.resolve("preview-data").toString())) {
      assertEquals(0, preview.awaitExit(Duration.ofMinutes(2)), preview.output());
      List<JsonNode> rows = new java.util.ArrayList<>();
      for (String line : preview.output().split("\n")) {
        if (line.startsWith("{")) {
          rows.add(JSON.readTree(line));
        }
      }
      assertEquals(2, rows.size(), preview.output());
      for (JsonNode row : rows) {
        assertEquals(3, row.get("answer__trace").findValues("tool_calls").size(), row.toString());
      }
    }
    assertFalse(McpServers.log(log).isEmpty(), "the tools ran on the server the spec starts");
  }

  /** How long ago the first tool call ended (0: none has). */
  private static long firstEndedAgo(Path log) {
    try {
      return McpServers.log(log).stream().filter(c -> c.get("event").asText().equals("end")).findFirst()
          .map(c -> System.currentTimeMillis() - c.get("at").asLong()).orElse(0L);
    } catch (Exception e) {
      return 0; // a line being written: look again
    }
  }
}
