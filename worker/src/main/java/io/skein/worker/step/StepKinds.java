package io.skein.worker.step;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.StepSpec;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The step kinds this node knows, found through {@link ServiceLoader} (the built-in ones, and those
 * of the plugin jars {@link #usePlugins} adds), and the check of a step's keys against its kind's
 * schema, with a path and, for an unknown key, a suggestion.
 */
public final class StepKinds {

  /** Replaced whole when plugins are added, so a reader sees the kinds before or after, never half. */
  private static volatile Map<String, StepKind> kinds = load();
  private static volatile List<StepKind> plugins = List.of();
  private static final Map<String, JsonSchema> COMPILED = new ConcurrentHashMap<>();

  /** The keys every step has, as JSON Schema properties (the parser reads them; the schema documents them). */
  static final String STEP_PROPERTIES = """
      "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "The step's name: its value is the record field of that name."},
      "kind": {"type": "string", "description": "What the step does (default llm)."},
      "when": {"type": "string", "description": "A condition (Jinja, without braces); when false the step is skipped and its value is null (or skip_value). Steps that read a skipped step are skipped too, unless they have a `when` of their own."},
      "skip_value": {"description": "The value the step takes when it is skipped (default null): Data Designer's skip.value."},
      "n": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "That many independent samples (separate calls with their own seeds); the value is a list."},
      "drop": {"type": "boolean", "description": "Computed, and readable by later steps, but left out of the row."},
      "with_trace": {"enum": ["none", "last", "all", "last_message", "all_messages"], "description": "Adds `<name>__trace`: the final answer (last) or the whole conversation (all) as chat messages."},
      "extract_reasoning": {"type": "boolean", "description": "Adds `<name>__reasoning_content`: the model's <think> block or reasoning_content. Reasoning is never part of the value."},
      "extract_reasoning_content": {"type": "boolean", "description": "Data Designer's name for extract_reasoning."}
      """;

  private StepKinds() {}

  private static Map<String, StepKind> load() {
    Map<String, StepKind> found = new LinkedHashMap<>();
    ServiceLoader.load(StepKind.class, StepKinds.class.getClassLoader()).stream()
        .map(ServiceLoader.Provider::get)
        .sorted(Comparator.comparing(StepKind::name))
        .forEach(k -> found.put(k.name(), k));
    return java.util.Collections.unmodifiableMap(found);
  }

  public static StepKind get(String name) {
    return kinds.get(name);
  }

  public static Collection<StepKind> all() {
    return kinds.values();
  }

  /** The kinds plugins added, in the order they came. */
  public static List<StepKind> plugins() {
    return plugins;
  }

  /**
   * Adds the kinds of the plugin jars at {@code path} (a jar, or a directory: every jar in it), each
   * listed in the jar's {@code META-INF/services/io.skein.worker.step.StepKind}; they see Skein's
   * classes and its libraries. Returns the kinds added. Fails, adding none, on a path with no jar,
   * a kind that does not load, or a name some kind already has.
   */
  public static synchronized List<StepKind> usePlugins(Path path) {
    List<Path> jars = jars(path);
    URL[] urls = jars.stream().map(StepKinds::url).toArray(URL[]::new);
    URLClassLoader loader = new URLClassLoader("skein-plugins", urls, StepKinds.class.getClassLoader());
    Map<String, StepKind> next = new LinkedHashMap<>(kinds);
    List<StepKind> added = new ArrayList<>();
    try {
      for (ServiceLoader.Provider<StepKind> provider : ServiceLoader.load(StepKind.class, loader).stream().toList()) {
        if (provider.type().getClassLoader() != loader) {
          continue; // a built-in kind, seen again through the parent
        }
        StepKind kind = provider.get();
        String where = provider.type().getName() + " in " + jarOf(provider.type());
        if (kind.name() == null || !kind.name().matches("[a-z][a-z0-9_-]*")) {
          throw new IllegalArgumentException(where + ": a kind's name is lower case letters, digits, - and _, not `" + kind.name() + "`");
        }
        if (next.containsKey(kind.name())) {
          throw new IllegalArgumentException(where + ": there is already a step kind named `" + kind.name() + "` ("
              + next.get(kind.name()).getClass().getName() + ")");
        }
        if (!kind.schema().path("properties").isObject()) {
          throw new IllegalArgumentException(where + ": schema() must be {\"properties\": {...}}");
        }
        next.put(kind.name(), kind);
        added.add(kind);
      }
    } catch (java.util.ServiceConfigurationError | RuntimeException e) {
      close(loader);
      throw e instanceof IllegalArgumentException iae ? iae
          : new IllegalArgumentException("a step kind in " + path + " does not load: " + e.getMessage(), e);
    }
    if (added.isEmpty()) {
      close(loader);
      throw new IllegalArgumentException(path + ": no step kind in " + jars.size() + " jar(s); a plugin lists its kinds in"
          + " META-INF/services/" + StepKind.class.getName());
    }
    Map<String, StepKind> sorted = new java.util.TreeMap<>(next);
    kinds = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sorted));
    List<StepKind> all = new ArrayList<>(plugins);
    all.addAll(added);
    plugins = List.copyOf(all);
    return List.copyOf(added);
  }

  private static List<Path> jars(Path path) {
    if (Files.isRegularFile(path) && path.toString().endsWith(".jar")) {
      return List.of(path);
    }
    if (!Files.isDirectory(path)) {
      throw new IllegalArgumentException(path + ": not a jar or a directory of jars");
    }
    try (var files = Files.list(path)) {
      List<Path> jars = files.filter(f -> f.toString().endsWith(".jar") && Files.isRegularFile(f)).sorted().toList();
      if (jars.isEmpty()) {
        throw new IllegalArgumentException(path + ": no .jar in it");
      }
      return jars;
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(path + ": cannot list it: " + e.getMessage(), e);
    }
  }

  private static URL url(Path jar) {
    try {
      return jar.toUri().toURL();
    } catch (java.net.MalformedURLException e) {
      throw new IllegalArgumentException(jar + ": " + e.getMessage(), e);
    }
  }

  private static String jarOf(Class<?> type) {
    var source = type.getProtectionDomain().getCodeSource();
    return source == null ? "?" : Path.of(java.net.URI.create(source.getLocation().toString())).getFileName().toString();
  }

  private static void close(URLClassLoader loader) {
    try {
      loader.close();
    } catch (java.io.IOException ignored) {
      // nothing was loaded from it
    }
  }

  /** A step of this kind, as JSON Schema: the common keys and the kind's, nothing else. */
  public static ObjectNode stepSchema(StepKind kind) {
    ObjectNode schema = Json.object("{\"type\": \"object\", \"properties\": {" + STEP_PROPERTIES + "}}");
    ObjectNode own = kind.schema();
    ((ObjectNode) schema.get("properties")).setAll((ObjectNode) own.path("properties"));
    ((ObjectNode) schema.get("properties")).putObject("kind").put("const", kind.name())
        .put("description", kind.description());
    ArrayNode required = schema.putArray("required").add("name");
    own.path("required").forEach(required::add);
    schema.put("additionalProperties", false);
    return schema;
  }

  /** Checks a step's kind-specific keys against its kind's schema; false (with problems) if they fail. */
  public static boolean check(StepKind kind, StepSpec step, Problems problems) {
    JsonSchema schema = COMPILED.computeIfAbsent(kind.name(), k -> {
      ObjectNode s = kind.schema().deepCopy();
      s.put("type", "object");
      return JsonSchemas.compile(s);
    });
    int before = problems.size();
    Set<String> known = new TreeSet<>(SpecParser.STEP_KEYS);
    kind.schema().path("properties").fieldNames().forEachRemaining(known::add);
    step.config().fieldNames().forEachRemaining(key -> {
      if (!known.contains(key)) {
        problems.at(step, key, "unknown field for a " + kind.name() + " step" + SpecParser.suggest(key, known)
            + " (known: " + String.join(", ", known) + ")");
      }
    });
    for (ValidationMessage m : schema.validate(step.config())) {
      problems.add(path(step, m), message(m));
    }
    return problems.size() == before;
  }

  private static String path(StepSpec step, ValidationMessage m) {
    String at = m.getInstanceLocation().toString();
    String rest = at.startsWith("$") ? at.substring(1) : at;
    if ("required".equals(m.getType()) && m.getProperty() != null) {
      rest = rest + "." + m.getProperty();
    }
    return step.path() + (rest.startsWith(".") || rest.isEmpty() || rest.startsWith("[") ? rest : "." + rest);
  }

  private static String message(ValidationMessage m) {
    if ("required".equals(m.getType())) {
      return "missing";
    }
    String text = m.getMessage();
    String at = m.getInstanceLocation().toString();
    if (text.startsWith(at + ": ")) {
      text = text.substring(at.length() + 2);
    }
    if ("enum".equals(m.getType()) && m.getInstanceNode() != null && m.getInstanceNode().isTextual()) {
      java.util.List<String> allowed = new java.util.ArrayList<>();
      m.getSchemaNode().forEach(v -> allowed.add(v.asText()));
      text = "`" + m.getInstanceNode().asText() + "` is not one of " + allowed + SpecParser.suggest(m.getInstanceNode().asText(), allowed);
    }
    return text;
  }
}
