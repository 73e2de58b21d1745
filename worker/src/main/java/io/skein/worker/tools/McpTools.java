package io.skein.worker.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import io.modelcontextprotocol.client.McpAsyncClient;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.transport.HttpClientSseClientTransport;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.skein.protocol.ToolCall;
import io.skein.protocol.spec.ToolsSpec;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ToolAccess} through the official MCP Java SDK: one client per MCP server (a process it
 * starts for a stdio server, a connection for streamable HTTP or SSE), opened on first use, its
 * tool list fetched once and kept; a client whose server went away is opened again on the next
 * use. Commands named in a submitted spec run only where {@code skein.tools.allow-spec-commands}
 * is on; servers of the node's config ({@code skein.tools.servers}) always may. API keys are read
 * from the environment when a server is reached, and go nowhere else.
 */
public final class McpTools implements ToolAccess, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(McpTools.class);
  /** Map keys sorted: a tool's schema goes into request bodies, which must be the same bytes every time (fingerprints, the cache). */
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
  private static final JacksonMcpJsonMapper MAPPER = new JacksonMcpJsonMapper(JSON);
  /** The {@code _meta} key of a tool call's stable identity. */
  public static final String CALL_KEY = "io.skein/call";

  private final Map<String, ToolsSpec.Server> configured;
  private final boolean allowSpecCommands;
  private final Duration startTimeout;
  private final Function<String, String> env;
  private final Map<ToolsSpec.Server, CompletableFuture<Connection>> connections = new ConcurrentHashMap<>();

  /** An open client and the tools its server lists. */
  private record Connection(McpAsyncClient client, List<McpSchema.Tool> tools) {}

  private final io.micrometer.core.instrument.MeterRegistry registry;

  /** {@code config}: {@code skein.tools}. */
  public McpTools(Config config, Function<String, String> env) {
    this(config, env, new io.micrometer.core.instrument.composite.CompositeMeterRegistry());
  }

  /**
   * {@code registry}: where each tool call's time goes, {@code skein.tool.calls} by server, tool
   * and outcome ({@code ok}, or {@code error}: the tool said so, or it failed or timed out).
   */
  public McpTools(Config config, Function<String, String> env, io.micrometer.core.instrument.MeterRegistry registry) {
    this.registry = registry;
    this.configured = servers(config.getConfig("servers"));
    this.allowSpecCommands = config.getBoolean("allow-spec-commands");
    this.startTimeout = config.getDuration("start-timeout");
    this.env = env;
  }

  @Override
  public CompletionStage<List<ObjectNode>> definitions(ToolsSpec spec, List<String> sets) {
    return offered(spec, sets).thenApply(offered -> {
      List<ObjectNode> out = new ArrayList<>();
      offered.values().forEach(o -> out.add(definition(o.tool())));
      return out;
    });
  }

  @Override
  public CompletionStage<ToolResult> call(ToolsSpec spec, List<String> sets, ToolCall call, String key) {
    long start = System.nanoTime();
    return offered(spec, sets).thenCompose(offered -> {
      Offered o = offered.get(call.name());
      if (o == null) {
        return CompletableFuture.completedFuture(ToolResult.error("There is no tool named `" + call.name() + "`; the tools are "
            + offered.keySet() + "."));
      }
      Map<String, Object> arguments;
      try {
        JsonNode parsed = call.arguments() == null || call.arguments().isBlank() ? JSON.createObjectNode() : JSON.readTree(call.arguments());
        if (!parsed.isObject()) {
          return CompletableFuture.completedFuture(ToolResult.error("The arguments of `" + call.name() + "` must be a JSON object."));
        }
        arguments = JSON.convertValue(parsed, JSON.getTypeFactory().constructMapType(LinkedHashMap.class, String.class, Object.class));
      } catch (Exception e) {
        return CompletableFuture.completedFuture(ToolResult.error("The arguments of `" + call.name() + "` are not JSON: " + e.getMessage()));
      }
      ToolsSpec.Toolset set = o.set();
      return o.connection().client().callTool(new McpSchema.CallToolRequest(call.name(), arguments, Map.of(CALL_KEY, key)))
          .timeout(Duration.ofSeconds(set.timeoutSeconds()))
          .toFuture()
          .handle((result, error) -> {
            long millis = (System.nanoTime() - start) / 1_000_000;
            String server = o.server().describe();
            boolean failed = error != null || Boolean.TRUE.equals(result.isError());
            io.micrometer.core.instrument.Timer.builder("skein.tool.calls").description("MCP tool calls, by server, tool and outcome")
                .tag("server", server).tag("tool", call.name()).tag("outcome", failed ? "error" : "ok").register(registry)
                .record(Duration.ofNanos(System.nanoTime() - start));
            if (error != null) {
              forget(o.server(), o.connection());
              String why = error instanceof java.util.concurrent.TimeoutException || error.getCause() instanceof java.util.concurrent.TimeoutException
                  ? "no answer within " + set.timeoutSeconds() + " s" : String.valueOf(error.getMessage());
              return new ToolResult(server, "The tool `" + call.name() + "` failed: " + why, true, millis);
            }
            return new ToolResult(server, text(result), Boolean.TRUE.equals(result.isError()), millis);
          });
    });
  }

  @Override
  public List<io.skein.protocol.spec.SpecError> problems(ToolsSpec spec) {
    List<io.skein.protocol.spec.SpecError> out = new ArrayList<>();
    spec.sets().forEach((name, set) -> {
      for (int i = 0; i < set.servers().size(); i++) {
        try {
          resolve(set.servers().get(i));
        } catch (IllegalArgumentException e) {
          out.add(new io.skein.protocol.spec.SpecError("tools." + name + (set.servers().size() == 1 ? "" : ".servers[" + i + "]"),
              e.getMessage()));
        }
      }
    });
    return out;
  }

  /** A tool a call may use, the set that allows it and the server that has it. */
  private record Offered(McpSchema.Tool tool, ToolsSpec.Toolset set, ToolsSpec.Server server, Connection connection) {}

  /** The tools {@code sets} offer, by name (the first server listing a name has it), in the servers' order. */
  private CompletableFuture<Map<String, Offered>> offered(ToolsSpec spec, List<String> sets) {
    List<CompletableFuture<List<Offered>>> parts = new ArrayList<>();
    for (String name : sets) {
      ToolsSpec.Toolset set = spec.get(name);
      if (set == null) {
        return CompletableFuture.failedFuture(new IllegalArgumentException("the spec has no tool set `" + name + "`"));
      }
      for (ToolsSpec.Server s : set.servers()) {
        ToolsSpec.Server server;
        try {
          server = resolve(s);
        } catch (IllegalArgumentException e) {
          return CompletableFuture.failedFuture(e);
        }
        parts.add(connection(server).thenApply(c -> c.tools().stream().filter(t -> set.allows(t.name()))
            .map(t -> new Offered(t, set, server, c)).toList()));
      }
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
      Map<String, Offered> out = new LinkedHashMap<>();
      parts.forEach(p -> p.join().forEach(o -> out.putIfAbsent(o.tool().name(), o)));
      if (out.isEmpty()) {
        throw new IllegalStateException("the servers of " + sets + " offer no tool the allow-list lets through");
      }
      return out;
    });
  }

  /** A server named by reference is the one of this node's config (which keeps its name); a command of a spec runs only where allowed. */
  private ToolsSpec.Server resolve(ToolsSpec.Server s) {
    if (s.ref() != null && s.command() == null && s.url() == null) {
      ToolsSpec.Server c = configured.get(s.ref());
      if (c == null) {
        throw new IllegalArgumentException("no MCP server `" + s.ref() + "` is configured on this node (skein.tools.servers has "
            + configured.keySet() + ")");
      }
      return c;
    }
    if (s.stdio() && !allowSpecCommands) {
      throw new IllegalArgumentException("this node does not start commands a submitted spec names (`" + s.describe()
          + "`): name a server of skein.tools.servers instead, or set skein.tools.allow-spec-commands = on");
    }
    return s;
  }

  private CompletableFuture<Connection> connection(ToolsSpec.Server server) {
    return connections.computeIfAbsent(server, s -> open(s).whenComplete((c, e) -> {
      if (e != null) {
        LOG.warn("MCP server {} could not be reached: {}", s.describe(), e.toString());
        connections.remove(s); // asked again by the next record
      }
    }));
  }

  private CompletableFuture<Connection> open(ToolsSpec.Server server) {
    McpAsyncClient client;
    // The last lines a stdio server wrote to stderr: what a server that does not start says of why.
    java.util.Deque<String> said = new java.util.concurrent.ConcurrentLinkedDeque<>();
    try {
      McpClientTransport transport = transport(server);
      if (transport instanceof StdioClientTransport stdio) {
        stdio.setStdErrorHandler(line -> {
          LOG.debug("MCP server {}: {}", server.describe(), line);
          said.addLast(line.length() > 300 ? line.substring(0, 300) + "..." : line);
          while (said.size() > 5) {
            said.pollFirst();
          }
        });
      }
      client = McpClient.async(transport)
          .clientInfo(new McpSchema.Implementation("skein", "0.1.0"))
          .requestTimeout(Duration.ofMinutes(10))
          .initializationTimeout(startTimeout)
          .jsonSchemaValidator(new McpSchemaValidator())
          .build();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return client.initialize().then(listAll(client, null, new ArrayList<>())).toFuture()
        .thenApply(tools -> {
          LOG.info("MCP server {}: {} tools {}", server.describe(), tools.size(), tools.stream().map(McpSchema.Tool::name).toList());
          return new Connection(client, List.copyOf(tools));
        })
        .whenComplete((c, e) -> {
          if (e != null) {
            client.closeGracefully().subscribe(v -> { }, err -> { });
          }
        })
        .exceptionallyCompose(e -> {
          Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
          String why = cause.getMessage() + (said.isEmpty() ? "" : "; the server wrote: " + String.join(" | ", said));
          return CompletableFuture.failedFuture(new IllegalStateException("MCP server " + server.describe() + ": " + why, cause));
        });
  }

  /** Every page of the server's tool list. */
  private static reactor.core.publisher.Mono<List<McpSchema.Tool>> listAll(McpAsyncClient client, String cursor, List<McpSchema.Tool> into) {
    return (cursor == null ? client.listTools() : client.listTools(cursor)).flatMap(page -> {
      into.addAll(page.tools());
      return page.nextCursor() == null || page.nextCursor().isEmpty()
          ? reactor.core.publisher.Mono.just(into) : listAll(client, page.nextCursor(), into);
    });
  }

  private McpClientTransport transport(ToolsSpec.Server server) {
    if (server.stdio()) {
      return new StdioClientTransport(ServerParameters.builder(server.command()).args(server.args()).env(server.env()).build(), MAPPER);
    }
    URI uri = URI.create(server.url());
    String base = uri.getScheme() + "://" + uri.getRawAuthority();
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath()
        + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    HttpRequest.Builder request = HttpRequest.newBuilder();
    String key = server.apiKeyEnv() == null ? null : env.apply(server.apiKeyEnv());
    if (key != null && !key.isEmpty()) {
      request.header("Authorization", "Bearer " + key);
    }
    if ("sse".equals(server.transport())) {
      return HttpClientSseClientTransport.builder(base).sseEndpoint(path).requestBuilder(request).jsonMapper(MAPPER).build();
    }
    return HttpClientStreamableHttpTransport.builder(base).endpoint(path).requestBuilder(request).jsonMapper(MAPPER).build();
  }

  /** A client whose call failed is dropped (if still the current one), so the next use opens the server again. */
  private void forget(ToolsSpec.Server server, Connection connection) {
    CompletableFuture<Connection> current = connections.get(server);
    if (current != null && current.isDone() && !current.isCompletedExceptionally() && current.join() == connection
        && connections.remove(server, current)) {
      connection.client().closeGracefully().subscribe(v -> { }, err -> { });
    }
  }

  /** A tool as OpenAI's {@code tools} entry. */
  private static ObjectNode definition(McpSchema.Tool tool) {
    ObjectNode out = JSON.createObjectNode().put("type", "function");
    ObjectNode function = out.putObject("function").put("name", tool.name());
    if (tool.description() != null) {
      function.put("description", tool.description());
    }
    function.set("parameters", tool.inputSchema() == null ? JSON.createObjectNode().put("type", "object") : JSON.valueToTree(tool.inputSchema()));
    return out;
  }

  /** What a tool answered, as the model is shown it: its text parts; other parts, and structured content alone, as JSON. */
  private static String text(McpSchema.CallToolResult result) {
    StringBuilder out = new StringBuilder();
    for (McpSchema.Content c : result.content() == null ? List.<McpSchema.Content>of() : result.content()) {
      out.append(out.length() == 0 ? "" : "\n").append(c instanceof McpSchema.TextContent t ? t.text() : JSON.valueToTree(c).toString());
    }
    if (out.length() == 0 && result.structuredContent() != null) {
      out.append(JSON.valueToTree(result.structuredContent()));
    }
    return out.toString();
  }

  private static Map<String, ToolsSpec.Server> servers(Config servers) {
    Map<String, ToolsSpec.Server> out = new LinkedHashMap<>();
    for (String name : servers.root().keySet()) {
      Config c = servers.getConfig(com.typesafe.config.ConfigUtil.quoteString(name));
      Map<String, String> env = new LinkedHashMap<>();
      if (c.hasPath("env")) {
        c.getConfig("env").root().unwrapped().forEach((k, v) -> env.put(k, String.valueOf(v)));
      }
      out.put(name, new ToolsSpec.Server(name, c.hasPath("command") ? c.getString("command") : null,
          c.hasPath("args") ? c.getStringList("args") : List.of(), env, c.hasPath("url") ? c.getString("url") : null,
          c.hasPath("transport") ? c.getString("transport") : c.hasPath("url") ? "streamable_http" : "stdio",
          c.hasPath("api-key-env") ? c.getString("api-key-env") : null));
    }
    return out;
  }

  @Override
  public void close() {
    connections.values().forEach(f -> f.thenAccept(c -> c.client().close()));
    connections.clear();
  }
}
