package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.deploy.tools.McpServers;
import io.skein.deploy.tools.TestMcpServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MCP servers reached by URL, with `skein run`: one over streamable HTTP that wants a bearer key
 * (read from the env variable the spec names), one over the older HTTP+SSE transport. Each step's
 * tool calls run on its own server; the key reaches the server and nowhere else (not the rows, not
 * the log); a wrong key makes the records `tool_error` rows saying the tools cannot be listed.
 */
class ToolsOverHttpTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "mcp-test-key-4f9a2c7e81";

  @TempDir
  Path dir;

  @Test
  void streamableHttpWithAKeyAndSseServeTheirSteps() throws Exception {
    Path httpLog = dir.resolve("http-calls.jsonl");
    Path sseLog = dir.resolve("sse-calls.jsonl");
    try (TestMcpServer.HttpServer http = TestMcpServer.http(false, KEY, httpLog);
        TestMcpServer.HttpServer sse = TestMcpServer.http(true, null, sseLog)) {
      Path spec = Files.writeString(dir.resolve("remote.yaml"), """
          name: remote-tools
          input: {num_records: 4}
          models: {m: {model: sim-small, max_tokens: 40}}
          tools:
            remote: {url: "%s", api_key_env: LAB_MCP_KEY, allow: [add, lookup]}
            older: {url: "%s", transport: sse, allow: [lookup]}
          steps:
            - {name: first, model: m, prompt: "Work out item {{ index }}.", tools: [remote], with_trace: all}
            - {name: second, model: m, prompt: "Look up {{ first }}", tools: [older], with_trace: all}
          """.formatted(http.url("/mcp"), sse.url("/sse")));
      Path out = dir.resolve("out.jsonl");
      try (SkeinProcess run = SkeinProcess.start(dir.resolve("run.log"), Map.of("LAB_MCP_KEY", KEY, "SKEIN_LOG_LEVEL", "INFO"),
          "run", spec.toString(), "--output", out.toString(), "--data-dir", dir.resolve("data").toString())) {
        assertEquals(0, run.awaitExit(Duration.ofMinutes(3)), run.output());
        assertFalse(run.output().contains(KEY), "the key is in no log line");
      }
      List<String> rows = Files.readAllLines(out);
      assertEquals(4, rows.size());
      for (String line : rows) {
        assertFalse(line.contains(KEY), "the key is in no row");
        JsonNode row = JSON.readTree(line);
        assertTrue(row.get("first").asText().contains("Tools said: "), row.toString());
        assertTrue(row.get("second").asText().contains("Tools said: the entry for"), row.toString());
      }
      List<JsonNode> viaHttp = McpServers.log(httpLog);
      List<JsonNode> viaSse = McpServers.log(sseLog);
      assertFalse(viaHttp.isEmpty() || viaSse.isEmpty(), "both servers ran calls");
      assertTrue(viaHttp.stream().allMatch(c -> c.get("key").asText().contains("/first#")), "streamable HTTP ran the first step's: " + viaHttp);
      assertTrue(viaSse.stream().allMatch(c -> c.get("key").asText().contains("/second#") && c.get("tool").asText().equals("lookup")),
          "SSE ran the second step's, only the tool allowed: " + viaSse);

      Path wrong = dir.resolve("wrong.jsonl");
      try (SkeinProcess run = SkeinProcess.start(dir.resolve("wrong.log"), Map.of("LAB_MCP_KEY", "not-the-key"), "run", spec.toString(),
          "--output", wrong.toString(), "--data-dir", dir.resolve("data-wrong").toString())) {
        run.awaitExit(Duration.ofMinutes(3));
      }
      List<String> errors = Files.readAllLines(RunCommand.errorsBeside(wrong));
      assertEquals(4, errors.size(), "every record is an error row: " + errors);
      JsonNode error = JSON.readTree(errors.get(0)).get("error");
      assertEquals("tool_error", error.get("type").asText(), error.toString());
      assertTrue(error.get("message").asText().contains("the tools [remote] cannot be listed"), error.toString());
    }
  }
}
