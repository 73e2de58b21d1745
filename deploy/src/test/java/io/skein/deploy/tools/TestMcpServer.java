package io.skein.deploy.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * An MCP server on stdio, built on the MCP Java SDK's server, for the tool tests: {@code add}
 * (two numbers), {@code lookup} (a word for a key, the same every time) and {@code broken} (always
 * an error). Each call waits {@code TEST_MCP_DELAY_MS} (default 0), and is written to the file
 * {@code TEST_MCP_LOG} (if set) as one JSON line when it starts and one when it ends, with the key
 * Skein sent as {@code _meta}, so a test sees every call the server ran. It exits when its stdin
 * closes (its client went away, even by SIGKILL).
 *
 * <p>Run it as {@code java -cp <test classpath> io.skein.deploy.tools.TestMcpServer}.
 */
public final class TestMcpServer {

  private static final ObjectMapper JSON = new ObjectMapper();

  private TestMcpServer() {}

  public static void main(String[] args) throws Exception {
    // stdout carries the protocol; everything else (logging included) goes to stderr.
    java.io.PrintStream rpc = System.out;
    System.setOut(System.err);
    long delay = Long.parseLong(System.getenv().getOrDefault("TEST_MCP_DELAY_MS", "0"));
    String log = System.getenv("TEST_MCP_LOG");
    InputStream in = new FilterInputStream(System.in) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n < 0) {
          System.exit(0);
        }
        return n;
      }
    };
    var transport = new StdioServerTransportProvider(new JacksonMcpJsonMapper(JSON), in, rpc);
    McpServer.sync(transport)
        .serverInfo("skein-test-tools", "1.0")
        .jsonSchemaValidator(new io.skein.worker.tools.McpSchemaValidator())
        .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build())
        .tools(tools(delay, log))
        .build();
    Thread.currentThread().join();
  }

  /**
   * The same tools over HTTP, in this JVM: streamable HTTP at {@code /mcp} (or, with {@code sse},
   * the older HTTP+SSE transport at {@code /sse}) on an embedded Jetty, answering 401 to a request
   * without {@code Authorization: Bearer <apiKey>} when a key is given.
   */
  public static HttpServer http(boolean sse, String apiKey, Path log) throws Exception {
    JacksonMcpJsonMapper mapper = new JacksonMcpJsonMapper(JSON);
    jakarta.servlet.http.HttpServlet servlet;
    if (sse) {
      var t = io.modelcontextprotocol.server.transport.HttpServletSseServerTransportProvider.builder().jsonMapper(mapper)
          .sseEndpoint("/sse").messageEndpoint("/message").build();
      McpServer.sync(t).serverInfo("skein-test-tools-sse", "1.0").jsonSchemaValidator(new io.skein.worker.tools.McpSchemaValidator())
          .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build()).tools(tools(0, log.toString())).build();
      servlet = t;
    } else {
      var t = io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider.builder().jsonMapper(mapper)
          .mcpEndpoint("/mcp").build();
      McpServer.sync(t).serverInfo("skein-test-tools-http", "1.0").jsonSchemaValidator(new io.skein.worker.tools.McpSchemaValidator())
          .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build()).tools(tools(0, log.toString())).build();
      servlet = t;
    }
    org.eclipse.jetty.server.Server jetty = new org.eclipse.jetty.server.Server(new java.net.InetSocketAddress("127.0.0.1", 0));
    var context = new org.eclipse.jetty.ee11.servlet.ServletContextHandler();
    var holder = new org.eclipse.jetty.ee11.servlet.ServletHolder(servlet);
    holder.setAsyncSupported(true);
    context.addServlet(holder, "/*");
    if (apiKey != null) {
      context.addFilter(new org.eclipse.jetty.ee11.servlet.FilterHolder((jakarta.servlet.Filter) (request, response, chain) -> {
        var http = (jakarta.servlet.http.HttpServletRequest) request;
        if (("Bearer " + apiKey).equals(http.getHeader("Authorization"))) {
          chain.doFilter(request, response);
        } else {
          ((jakarta.servlet.http.HttpServletResponse) response).sendError(401, "a bearer token is required");
        }
      }), "/*", java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST));
    }
    jetty.setHandler(context);
    jetty.start();
    return new HttpServer(jetty);
  }

  /** A running HTTP server: its base URL; closing stops it. */
  public record HttpServer(org.eclipse.jetty.server.Server jetty) implements AutoCloseable {
    public String url(String path) {
      return "http://127.0.0.1:" + ((org.eclipse.jetty.server.ServerConnector) jetty.getConnectors()[0]).getLocalPort() + path;
    }

    @Override
    public void close() throws Exception {
      jetty.stop();
    }
  }

  private static List<McpServerFeatures.SyncToolSpecification> tools(long delay, String log) {
    return List.of(
            tool("add", "Adds two numbers.", Map.of("a", Map.of("type", "number"), "b", Map.of("type", "number")), List.of("a", "b"),
                delay, log, a -> text(format(number(a.get("a"))) + " + " + format(number(a.get("b"))) + " = "
                    + format(number(a.get("a")) + number(a.get("b"))), false)),
            tool("lookup", "Looks a key up in the test dictionary.", Map.of("key", Map.of("type", "string")), List.of("key"),
                delay, log, a -> text("the entry for " + a.get("key") + " is " + word(String.valueOf(a.get("key"))), false)),
            tool("broken", "A tool whose service is always down.", Map.of(), List.of(), delay, log,
                a -> text("the service behind this tool is down", true)));
  }

  private static McpServerFeatures.SyncToolSpecification tool(String name, String description, Map<String, Object> properties,
      List<String> required, long delay, String log, java.util.function.Function<Map<String, Object>, McpSchema.CallToolResult> body) {
    McpSchema.Tool tool = McpSchema.Tool.builder(name)
        .description(description)
        .inputSchema(Map.of("type", "object", "properties", properties, "required", required))
        .build();
    BiFunction<io.modelcontextprotocol.server.McpSyncServerExchange, McpSchema.CallToolRequest, McpSchema.CallToolResult> handler =
        (exchange, request) -> {
          Object key = request.meta() == null ? null : request.meta().get("io.skein/call");
          write(log, name, key, "start");
          try {
            Thread.sleep(delay);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          McpSchema.CallToolResult result = body.apply(request.arguments() == null ? Map.of() : request.arguments());
          write(log, name, key, "end");
          return result;
        };
    return new McpServerFeatures.SyncToolSpecification(tool, handler);
  }

  private static synchronized void write(String log, String tool, Object key, String what) {
    if (log == null) {
      return;
    }
    ObjectNode line = JSON.createObjectNode().put("tool", tool).put("key", String.valueOf(key)).put("event", what)
        .put("at", System.currentTimeMillis());
    try {
      Files.writeString(Path.of(log), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static McpSchema.CallToolResult text(String text, boolean error) {
    return McpSchema.CallToolResult.builder().addTextContent(text).isError(error).build();
  }

  private static double number(Object v) {
    return v instanceof Number n ? n.doubleValue() : Double.parseDouble(String.valueOf(v));
  }

  private static String format(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(d);
  }

  private static String word(String key) {
    String[] words = {"amber", "basalt", "cedar", "delta", "ember", "fjord", "granite", "harbor"};
    return words[Math.floorMod(key.hashCode(), words.length)];
  }
}
