package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.deploy.tools.McpServers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * MCP tools end to end: a node whose config names a stdio MCP server (the tests' own, on the MCP
 * Java SDK), a spec whose step offers its tools, the simulator calling them: every tool call runs
 * once on the server, its result goes back to the model in OpenAI's tool-calling format and shows
 * in the trace; the allow-list keeps a tool out; calls beyond {@code max_tool_turns} are refused
 * without running; a command named in a submitted spec is not started by a server node.
 */
class ToolsTest {

  /** {@code skein_tool_calls_seconds_count} of server calc, this tool, outcome ok. */
  private static long toolCallsCounted(String metrics, String tool) {
    return metrics.lines().filter(l -> l.startsWith("skein_tool_calls_seconds_count{") && l.contains("tool=\"" + tool + "\"")
        && l.contains("server=\"calc\"") && l.contains("outcome=\"ok\"")).mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  @Test
  void theModelCallsTheServersToolsAndEveryCallRunsOnce() throws Exception {
    Path dir = Files.createTempDirectory("skein-tools");
    Path log = dir.resolve("calls.jsonl");
    Path config = Files.writeString(dir.resolve("tools.conf"), """
        skein.simulator { latency = 2ms, tool-rounds = 2 }
        skein.tools.servers.calc = %s
        skein.tools.start-timeout = 5s
        skein.tools.servers.gone { command = %s, args = ["-cp", "/nonexistent", "NoSuchServer"] }
        """.formatted(McpServers.hocon(log, 0), new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(McpServers.java())));
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      String spec = """
          name: tools
          models: {m: {model: sim-large, max_tokens: 80}}
          tools:
            calc: {servers: [calc], allow: [add, lookup], max_tool_turns: 3, timeout: 20}
          steps:
            - {name: answer, model: m, prompt: "Work out {{ topic }}.", tools: [calc], with_trace: all}
          """;
      String id = http.submitJob(spec, Http.topics("t", 6));
      JsonNode done = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
      assertEquals(6, done.get("succeeded").asInt(), done.toString());

      Set<String> used = new HashSet<>();
      int toolMessages = 0;
      for (JsonNode row : http.get("/jobs/" + id + "/results").lines()) {
        JsonNode trace = row.get("answer__trace");
        List<String> asked = new ArrayList<>();
        for (JsonNode m : trace) {
          m.path("tool_calls").forEach(c -> {
            asked.add(c.get("id").asText());
            used.add(c.at("/function/name").asText());
          });
          if (m.get("role").asText().equals("tool")) {
            toolMessages++;
            assertTrue(asked.contains(m.get("tool_call_id").asText()), "a tool message answers a call asked before: " + trace);
            assertTrue(m.get("content").asText().matches("the entry for .* is \\w+|.* \\+ .* = .*"), "the server's answer: " + m);
          }
        }
        assertEquals(2, trace.findValues("tool_calls").size(), "two rounds of tool calls, then the answer: " + trace);
        String answer = row.get("answer").asText();
        assertTrue(answer.contains("Tools said: "), "the model saw what the tools said: " + answer);
        assertEquals(answer, trace.get(trace.size() - 1).get("content").asText());
      }
      assertEquals(Set.of("add", "lookup"), used, "both allowed tools are called, the one left out of `allow` never");

      List<JsonNode> calls = McpServers.log(log);
      List<String> started = calls.stream().filter(c -> c.get("event").asText().equals("start")).map(c -> c.get("key").asText()).toList();
      assertEquals(toolMessages, started.size(), "each tool call in the rows ran on the server: " + calls);
      assertEquals(started.size(), new HashSet<>(started).size(), "and ran once: " + started);
      assertTrue(started.get(0).startsWith(id + "/"), "the server is told which record's call it runs: " + started.get(0));
      assertEquals(6 * 3, node.simulator().stats().requests(), "each record: two tool rounds and an answer");
      String metrics = http.get("/metrics").body();
      for (String tool : List.of("add", "lookup")) {
        long ran = calls.stream().filter(c -> c.get("event").asText().equals("start") && c.get("tool").asText().equals(tool)).count();
        assertEquals(ran, toolCallsCounted(metrics, tool), "/metrics counts each " + tool + " call: " + metrics.lines()
            .filter(l -> l.startsWith("skein_tool_calls")).toList());
      }

      // A preview calls the tools as a job does (and they run on the server).
      Http.Response preview = http.post("/jobs/preview?n=2", "application/yaml",
          spec.replace("steps:", "input: {records: [{topic: tides}, {topic: dunes}]}\nsteps:"));
      assertEquals(200, preview.status(), preview.body());
      for (JsonNode row : preview.json()) {
        assertTrue(row.get("answer").asText().contains("Tools said: "), row.toString());
        assertEquals(2, row.get("answer__trace").findValues("tool_calls").size(), row.toString());
      }
      started = McpServers.log(log).stream().filter(c -> c.get("event").asText().equals("start")).map(c -> c.get("key").asText()).toList();

      // One turn allowed: the second round is answered with a refusal and runs nothing.
      String one = http.submitJob(spec.replace("max_tool_turns: 3", "max_tool_turns: 1"), Http.topics("u", 3));
      http.awaitState(one, "succeeded", Duration.ofMinutes(2));
      int before = started.size();
      for (JsonNode row : http.get("/jobs/" + one + "/results").lines()) {
        List<String> said = row.get("answer__trace").findValues("content").stream().map(JsonNode::asText).toList();
        assertTrue(said.stream().anyMatch(s -> s.startsWith("Tool call refused: this conversation has used all its tool turns")), said.toString());
      }
      long ranSince = McpServers.log(log).stream().filter(c -> c.get("event").asText().equals("start")).count() - before;
      long firstRound = 0;
      for (JsonNode row : http.get("/jobs/" + one + "/results").lines()) {
        firstRound += row.get("answer__trace").findValues("tool_calls").get(0).size();
      }
      assertEquals(firstRound, ranSince, "only the first round ran on the server");

      // A server that does not start: its records are error rows that say what it wrote.
      String gone = http.submitJob(spec.replace("servers: [calc]", "servers: [gone]"), Http.topics("w", 2));
      http.awaitStatus(gone, "end", s -> s.get("failed").asInt() == 2, Duration.ofMinutes(1));
      for (JsonNode error : http.get("/jobs/" + gone + "/errors").lines()) {
        assertEquals("tool_error", error.at("/error/type").asText(), error.toString());
        assertTrue(error.at("/error/message").asText().contains("MCP server gone") && error.at("/error/message").asText()
            .contains("the server wrote: Error: Could not find or load main class NoSuchServer"), error.toString());
      }

      // A command named by a submitted spec is not started on a server node, nor a server it does not have: refused at once.
      Http.Response refused = http.post("/jobs", "application/json", """
          {"spec": {"name": "inline", "models": {"m": {"model": "sim-large"}},
            "tools": {"own": {"command": "/bin/sh", "args": ["-c", "echo hi"]}, "far": {"servers": ["calc", "elsewhere"]}},
            "steps": [{"name": "answer", "model": "m", "prompt": "Hi", "tools": ["own", "far"]}]},
           "records": [{"id": "v"}]}""");
      assertEquals(400, refused.status(), refused.body());
      assertTrue(refused.contentType().startsWith("application/problem+json"), refused.contentType());
      assertTrue(refused.body().contains("tools.own") && refused.body().contains("does not start commands a submitted spec names"),
          refused.body());
      assertTrue(refused.body().contains("tools.far.servers[1]") && refused.body().contains("no MCP server `elsewhere` is configured"),
          refused.body());
      assertFalse(refused.body().contains("servers[0]"), "the configured server is fine: " + refused.body());
    }
  }
}
