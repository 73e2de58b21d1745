package io.skein.worker.step;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.StepSpec;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The step kinds this node knows, found through {@link ServiceLoader}, and the check of a step's
 * keys against its kind's schema, with a path and, for an unknown key, a suggestion.
 */
public final class StepKinds {

  private static final Map<String, StepKind> KINDS = load();
  private static final Map<String, JsonSchema> COMPILED = new ConcurrentHashMap<>();

  /** The keys every step has, as JSON Schema properties (the parser reads them; the schema documents them). */
  static final String STEP_PROPERTIES = """
      "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "The step's name: its value is the record field of that name."},
      "kind": {"type": "string", "description": "What the step does (default llm)."},
      "when": {"type": "string", "description": "A condition (Jinja, without braces); when false the step is skipped and its value is null. Steps that read a skipped step are skipped too, unless they have a `when` of their own."},
      "n": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "That many independent samples (separate calls with their own seeds); the value is a list."},
      "drop": {"type": "boolean", "description": "Computed, and readable by later steps, but left out of the row."},
      "with_trace": {"enum": ["none", "last", "all", "last_message", "all_messages"], "description": "Adds `<name>__trace`: the final answer (last) or the whole conversation (all) as chat messages."},
      "extract_reasoning": {"type": "boolean", "description": "Adds `<name>__reasoning_content`: the model's <think> block or reasoning_content. Reasoning is never part of the value."},
      "extract_reasoning_content": {"type": "boolean", "description": "Data Designer's name for extract_reasoning."}
      """;

  private StepKinds() {}

  private static Map<String, StepKind> load() {
    Map<String, StepKind> kinds = new LinkedHashMap<>();
    ServiceLoader.load(StepKind.class, StepKinds.class.getClassLoader()).stream()
        .map(ServiceLoader.Provider::get)
        .sorted(Comparator.comparing(StepKind::name))
        .forEach(k -> kinds.put(k.name(), k));
    return kinds;
  }

  public static StepKind get(String name) {
    return KINDS.get(name);
  }

  public static Collection<StepKind> all() {
    return KINDS.values();
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
