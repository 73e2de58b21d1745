package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * {@code tools:}: named sets of MCP tools a model step may offer its model ({@code tools: [name]} on
 * the step). A set names its MCP servers (a server started from a command, speaking stdio; one
 * reached by URL over streamable HTTP or SSE, with the env variable holding its API key; or a
 * server named in the node's config, {@code skein.tools.servers.<name>}), an allow-list of tool
 * names (none: every tool the servers list), how many rounds of tool calls one conversation may
 * make ({@code max_tool_turns}, as Data Designer's {@code max_tool_call_turns}) and how long one
 * tool call may take ({@code timeout}, seconds).
 */
public record ToolsSpec(Map<String, Toolset> sets) {

  public static final ToolsSpec NONE = new ToolsSpec(Map.of());
  public static final int DEFAULT_MAX_TOOL_TURNS = 5;
  public static final int DEFAULT_TIMEOUT_SECONDS = 60;
  public static final Set<String> TRANSPORTS = Set.of("stdio", "streamable_http", "sse");

  private static final Set<String> SET_KEYS = Set.of("servers", "command", "args", "env", "url", "transport", "api_key_env",
      "allow", "max_tool_turns", "timeout");
  private static final Set<String> SERVER_KEYS = Set.of("command", "args", "env", "url", "transport", "api_key_env");

  public ToolsSpec {
    sets = Map.copyOf(sets);
  }

  public Toolset get(String name) {
    return sets.get(name);
  }

  /** One set: its servers, the tools allowed (empty: all), its limits. */
  public record Toolset(String name, List<Server> servers, List<String> allow, int maxToolTurns, int timeoutSeconds) {
    public Toolset {
      servers = List.copyOf(servers);
      allow = List.copyOf(allow);
    }

    public boolean allows(String tool) {
      return allow.isEmpty() || allow.contains(tool);
    }
  }

  /**
   * One MCP server: {@code ref} names a server of the node's config (and the rest is empty), else
   * a {@code command} (stdio) or a {@code url} (streamable HTTP or SSE). Never holds a secret: the
   * API key is read from {@code apiKeyEnv} when the server is reached.
   */
  public record Server(String ref, String command, List<String> args, Map<String, String> env, String url, String transport,
      String apiKeyEnv) {
    public Server {
      args = args == null ? List.of() : List.copyOf(args);
      env = env == null ? Map.of() : Map.copyOf(env);
    }

    public static Server named(String ref) {
      return new Server(ref, null, List.of(), Map.of(), null, null, null);
    }

    public boolean stdio() {
      return command != null;
    }

    /** What logs and errors say of it: its name, command or URL (cut short); never its env. */
    public String describe() {
      String said = ref != null ? ref : command != null ? String.join(" ", prepend(command, args)) : url;
      return said.length() <= 160 ? said : said.substring(0, 160) + "...";
    }

    private static List<String> prepend(String first, List<String> rest) {
      List<String> out = new ArrayList<>(List.of(first));
      out.addAll(rest);
      return out;
    }
  }

  /** The spec's {@code tools}, or {@link #NONE}; each problem goes to {@code error} with its path. */
  static ToolsSpec read(JsonNode node, BiConsumer<String, String> error) {
    if (node == null || node.isNull()) {
      return NONE;
    }
    if (!node.isObject()) {
      error.accept("tools", "must be a mapping from a name to a set of MCP tools: {servers: [...], allow: [...], max_tool_turns, timeout}");
      return NONE;
    }
    Map<String, Toolset> sets = new LinkedHashMap<>();
    node.fields().forEachRemaining(e -> {
      Toolset set = readSet(e.getKey(), e.getValue(), "tools." + e.getKey(), error);
      if (set != null) {
        sets.put(e.getKey(), set);
      }
    });
    return new ToolsSpec(sets);
  }

  private static Toolset readSet(String name, JsonNode node, String at, BiConsumer<String, String> error) {
    if (!node.isObject()) {
      error.accept(at, "must be {servers: [...], allow: [...], max_tool_turns, timeout}");
      return null;
    }
    unknownKeys(node, at, SET_KEYS, error);
    List<Server> servers = new ArrayList<>();
    boolean inline = node.has("command") || node.has("url");
    if (node.has("servers")) {
      if (inline) {
        error.accept(at, "give either `servers` or one server's `command`/`url`, not both");
      }
      JsonNode list = node.get("servers");
      if (!list.isArray() || list.isEmpty()) {
        error.accept(at + ".servers", "must be a non-empty list of servers: a name from the node's config, {command, args}, or {url}");
      } else {
        for (int i = 0; i < list.size(); i++) {
          Server s = readServer(list.get(i), at + ".servers[" + i + "]", error);
          if (s != null) {
            servers.add(s);
          }
        }
      }
    } else if (inline) {
      Server s = readServer(onlyServerKeys(node), at, error);
      if (s != null) {
        servers.add(s);
      }
    } else {
      error.accept(at, "names no MCP server: give `servers: [...]`, or `command` (stdio) or `url`");
    }
    List<String> allow = new ArrayList<>();
    if (node.has("allow")) {
      JsonNode a = node.get("allow");
      if (!a.isArray() || a.isEmpty()) {
        error.accept(at + ".allow", "must be a non-empty list of tool names (leave it out to allow every tool)");
      } else {
        a.forEach(t -> allow.add(t.asText()));
      }
    }
    int turns = positive(node, "max_tool_turns", DEFAULT_MAX_TOOL_TURNS, at, error);
    int timeout = positive(node, "timeout", DEFAULT_TIMEOUT_SECONDS, at, error);
    return new Toolset(name, servers, allow, turns, timeout);
  }

  private static JsonNode onlyServerKeys(JsonNode node) {
    com.fasterxml.jackson.databind.node.ObjectNode out = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    SERVER_KEYS.forEach(k -> {
      if (node.has(k)) {
        out.set(k, node.get(k));
      }
    });
    return out;
  }

  private static Server readServer(JsonNode node, String at, BiConsumer<String, String> error) {
    if (node.isTextual()) {
      return Server.named(node.asText());
    }
    if (!node.isObject()) {
      error.accept(at, "must be a server's name from the node's config, {command, args, env} or {url, transport, api_key_env}");
      return null;
    }
    unknownKeys(node, at, SERVER_KEYS, error);
    String command = text(node, "command");
    String url = text(node, "url");
    if ((command == null) == (url == null)) {
      error.accept(at, "must give exactly one of `command` (a server speaking MCP on stdio) or `url`");
      return null;
    }
    String transport = text(node, "transport");
    if (transport != null && !TRANSPORTS.contains(transport)) {
      error.accept(at + ".transport", "`" + transport + "` is not one of " + new TreeSet<>(TRANSPORTS) + SpecParser.suggest(transport, TRANSPORTS));
    }
    if (command != null && transport != null && !transport.equals("stdio")) {
      error.accept(at + ".transport", "a server started from a command speaks stdio");
    }
    if (url != null) {
      if ("stdio".equals(transport)) {
        error.accept(at + ".transport", "a server reached by URL speaks streamable_http or sse");
      }
      if (!url.startsWith("http://") && !url.startsWith("https://")) {
        error.accept(at + ".url", "must be an http:// or https:// URL, got `" + url + "`");
      }
      for (String k : List.of("args", "env")) {
        if (node.has(k)) {
          error.accept(at + "." + k, "is for a server started from a command; a server reached by URL has none");
        }
      }
    }
    if (command != null && node.has("api_key_env")) {
      error.accept(at + ".api_key_env", "is for a server reached by URL; give a command's secrets through `env` of the node");
    }
    List<String> args = new ArrayList<>();
    if (node.has("args")) {
      if (!node.get("args").isArray()) {
        error.accept(at + ".args", "must be a list of strings");
      } else {
        node.get("args").forEach(a -> args.add(a.asText()));
      }
    }
    Map<String, String> env = new LinkedHashMap<>();
    if (node.has("env")) {
      if (!node.get("env").isObject()) {
        error.accept(at + ".env", "must be a mapping from a variable's name to its value");
      } else {
        node.get("env").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
      }
    }
    return new Server(null, command, args, env, url, url == null ? "stdio" : transport == null ? "streamable_http" : transport,
        text(node, "api_key_env"));
  }

  private static String text(JsonNode node, String key) {
    JsonNode v = node.get(key);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static int positive(JsonNode node, String key, int otherwise, String at, BiConsumer<String, String> error) {
    if (!node.has(key)) {
      return otherwise;
    }
    JsonNode v = node.get(key);
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
      error.accept(at + "." + key, "must be a whole number of at least 1, got " + v);
      return otherwise;
    }
    return v.asInt();
  }

  private static void unknownKeys(JsonNode node, String at, Set<String> known, BiConsumer<String, String> error) {
    node.fieldNames().forEachRemaining(k -> {
      if (!known.contains(k)) {
        error.accept(at + "." + k, "unknown key" + SpecParser.suggest(k, known) + " (known: " + List.copyOf(new TreeSet<>(known)) + ")");
      }
    });
  }
}
