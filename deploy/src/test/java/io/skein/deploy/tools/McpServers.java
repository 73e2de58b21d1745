package io.skein.deploy.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** How tests start {@link TestMcpServer} (the command and its arguments) and read its call log. */
public final class McpServers {

  private static final ObjectMapper JSON = new ObjectMapper();

  private McpServers() {}

  public static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The arguments of {@code java} that run the test server with the tests' classpath. */
  public static List<String> args() {
    return List.of("-cp", System.getProperty("java.class.path"), TestMcpServer.class.getName());
  }

  /** The server as HOCON: {@code {command, args, env}}. */
  public static String hocon(Path log, long delayMillis) throws Exception {
    return "{ command = " + JSON.writeValueAsString(java()) + ", args = " + JSON.writeValueAsString(args())
        + ", env { TEST_MCP_LOG = " + JSON.writeValueAsString(log.toString()) + ", TEST_MCP_DELAY_MS = \"" + delayMillis + "\" } }";
  }

  /** The server's log: one line per call started and ended. */
  public static List<JsonNode> log(Path log) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    if (Files.exists(log)) {
      for (String line : Files.readAllLines(log)) {
        if (!line.isBlank()) {
          out.add(JSON.readTree(line));
        }
      }
    }
    return out;
  }
}
