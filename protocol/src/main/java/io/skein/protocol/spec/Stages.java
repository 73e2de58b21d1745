package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A spec of several stages, each run as a job of its own whose records are the rows of an earlier
 * stage. {@code setup:} steps run once, as a stage of one record named {@code setup} whose row every
 * record of every later stage reads as {@code setup.*}; {@code stages:} are named, each with the
 * {@code steps}, {@code output} and {@code processors} of a one-stage spec, and {@code from} (default:
 * the stage before; the first reads {@code input}), {@code explode} (one record per element of a
 * list field) and {@code filter} (a condition, as {@code when:}, that drops source rows). A spec with
 * {@code setup:} and plain {@code steps:} is two stages, {@code setup} and {@code main}.
 *
 * <p>Each stage's spec is a one-stage spec tree (the shared keys, the stage's own), parsed by
 * {@link SpecParser}; its errors are reported at their place in the whole spec.
 */
public final class Stages {

  /** The stage that runs the setup steps. */
  public static final String SETUP = "setup";
  /** The stage a spec with setup and plain steps runs them in. */
  public static final String MAIN = "main";
  public static final Set<String> TOP_KEYS =
      Set.of("name", "seed", "models", "input", "files", "setup", "stages", "steps", "output", "processors", "retry", "max_in_flight", "cache", "tools",
          "max_cost", "max_error_rate");
  /** Keys every stage's spec takes from the whole spec's; {@code max_cost} then caps the whole job's spend (each stage counts the others'). */
  private static final Set<String> SHARED_KEYS =
      Set.of("name", "seed", "models", "files", "retry", "max_in_flight", "cache", "tools", "max_cost", "max_error_rate");
  private static final Set<String> STAGE_KEYS =
      Set.of("name", "from", "explode", "filter", "steps", "output", "processors", "max_in_flight", "retry");
  /** A stage's job id is {@code <job id>.<stage>}, and job ids are kept in 64 characters. */
  public static final int MAX_STAGE_NAME = 40;
  private static final Pattern STAGE_NAME = Pattern.compile("[A-Za-z0-9_-]+");
  private static final Pattern FIELD = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private Stages() {}

  /** One record per element of the list at {@code path} (dot-separated) of each source row, the element named {@code as}. */
  public record Explode(String path, String as) {
    public List<String> segments() {
      return List.of(path.split("\\."));
    }
  }

  /**
   * Where a stage's records come from: the spec's input ({@code source} null) or the rows of the
   * stage {@code source}, each dropped unless {@code filter} holds and, with {@code explode}, split
   * into one record per element. {@code path} is where it is written in the spec, for errors.
   */
  public record Feed(String source, Explode explode, String filter, String path) {
    public boolean fromInput() {
      return source == null;
    }
  }

  /** One stage: its name, its one-stage spec (as a tree to store and parsed) and where its records come from. */
  public record Stage(String name, JsonNode tree, PipelineSpec spec, Feed feed) {
    public boolean isSetup() {
      return SETUP.equals(name);
    }
  }

  /** A spec's stages in order (setup first, when it has one). */
  public record Staged(String name, List<Stage> stages) {
    public Optional<Stage> stage(String name) {
      return stages.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public boolean hasSetup() {
      return stages.get(0).isSetup();
    }

    public Stage last() {
      return stages.get(stages.size() - 1);
    }

    public List<String> names() {
      return stages.stream().map(Stage::name).toList();
    }
  }

  /** Whether {@code root} is a spec of several stages (it has {@code stages} or {@code setup}). */
  public static boolean isStaged(JsonNode root) {
    return root != null && root.isObject() && (root.has("stages") || root.has(SETUP));
  }

  /** Reads a staged spec, or throws every problem found, each at its path in the whole spec. */
  public static Staged read(JsonNode root) {
    List<SpecError> errors = new ArrayList<>();
    root.fieldNames().forEachRemaining(key -> {
      if (!TOP_KEYS.contains(key)) {
        errors.add(new SpecError(key, "unknown field" + SpecParser.suggest(key, TOP_KEYS) + " (known: " + new TreeSet<>(TOP_KEYS) + ")"));
      }
    });
    ObjectNode shared = JsonNodeFactory.instance.objectNode();
    SHARED_KEYS.forEach(k -> {
      if (root.has(k)) {
        shared.set(k, root.get(k));
      }
    });
    List<Stage> stages = new ArrayList<>();
    Set<SpecError> found = new LinkedHashSet<>();
    if (root.has(SETUP)) {
      ObjectNode tree = shared.deepCopy();
      tree.set("steps", root.get(SETUP));
      tree.putObject("input").put("num_records", 1);
      Stage setup = parse(SETUP, tree, new Feed(null, null, null, SETUP), "setup", found);
      if (setup != null) {
        stages.add(setup);
      }
    }
    JsonNode list = root.get("stages");
    if (list == null) {
      ObjectNode tree = shared.deepCopy();
      List.of("input", "steps", "output", "processors").forEach(k -> {
        if (root.has(k)) {
          tree.set(k, root.get(k));
        }
      });
      Stage main = parse(MAIN, tree, new Feed(null, null, null, ""), "", found);
      if (main != null) {
        stages.add(main);
      }
    } else {
      List.of("steps", "output", "processors").forEach(k -> {
        if (root.has(k)) {
          errors.add(new SpecError(k, "a spec with stages has its " + k + " in each stage"));
        }
      });
      readStages(root, list, shared, stages, errors, found);
    }
    errors.addAll(found);
    if (!errors.isEmpty()) {
      throw new SpecException(errors);
    }
    return new Staged(root.path("name").asText(), List.copyOf(stages));
  }

  private static void readStages(JsonNode root, JsonNode list, ObjectNode shared, List<Stage> stages, List<SpecError> errors,
      Set<SpecError> found) {
    if (!list.isArray() || list.isEmpty()) {
      errors.add(new SpecError("stages", "must be a non-empty list of stages, each with a name and steps"));
      return;
    }
    List<String> names = new ArrayList<>();
    boolean setup = root.has(SETUP);
    if (setup) {
      names.add(SETUP);
    }
    for (int i = 0; i < list.size(); i++) {
      JsonNode s = list.get(i);
      String at = "stages[" + i + "]";
      if (!s.isObject()) {
        errors.add(new SpecError(at, "a stage must be a mapping with name and steps"));
        continue;
      }
      String name = s.path("name").asText(null);
      if (name == null || !s.get("name").isTextual()) {
        errors.add(new SpecError(at + ".name", "missing: every stage has a name (its rows are reported under it)"));
        continue;
      }
      at = at + " (" + name + ")";
      if (name.length() > MAX_STAGE_NAME) {
        errors.add(new SpecError(at + ".name", "must be at most " + MAX_STAGE_NAME + " characters (it is part of the stage's job id)"));
      } else if (!STAGE_NAME.matcher(name).matches()) {
        errors.add(new SpecError(at + ".name", "must be letters, digits, _ and -: it names the stage in URLs and files"));
      } else if (name.equals(SETUP)) {
        errors.add(new SpecError(at + ".name", "`setup` names the setup steps' stage; choose another name"));
      } else if (names.contains(name)) {
        errors.add(new SpecError(at + ".name", "stage `" + name + "` is named twice"));
      }
      String path = at;
      s.fieldNames().forEachRemaining(key -> {
        if (!STAGE_KEYS.contains(key)) {
          errors.add(new SpecError(path + "." + key, "unknown field" + SpecParser.suggest(key, STAGE_KEYS)
              + (key.equals("input") ? " (only the first stage reads the spec's input; a later one reads `from` a stage)" : "")
              + " (known: " + new TreeSet<>(STAGE_KEYS) + ")"));
        }
      });
      // The stage before (none for the first, or when every earlier one was too broken to name).
      String previous = i == 0 || names.isEmpty() ? null : names.get(names.size() - 1);
      Feed feed = feed(s, path, previous, names, setup, errors);
      ObjectNode tree = shared.deepCopy();
      for (String k : List.of("steps", "output", "processors", "max_in_flight", "retry")) {
        if (s.has(k)) {
          tree.set(k, s.get(k));
        }
      }
      if (feed != null && feed.fromInput() && root.has("input")) {
        tree.set("input", root.get("input"));
      }
      Set<SpecError> own = new LinkedHashSet<>();
      Stage stage = parse(name, tree, feed, path, own);
      // A stage's own retry and max_in_flight are reported at the stage, not at the shared keys.
      own.forEach(e -> found.add(s.has(e.path().split("\\.")[0]) && (e.path().startsWith("retry") || e.path().startsWith("max_in_flight"))
          ? new SpecError(path + "." + e.path(), e.message()) : e));
      if (stage != null) {
        stages.add(stage);
      }
      names.add(name);
    }
  }

  /** Where a stage reads from: {@code from}, else the stage before it, else (the first stage) the input or, exploding setup.*, the setup row. */
  private static Feed feed(JsonNode s, String at, String previous, List<String> earlier, boolean setup, List<SpecError> errors) {
    String source = previous;
    if (s.has("from")) {
      source = s.get("from").asText();
      if (!s.get("from").isTextual()) {
        errors.add(new SpecError(at + ".from", "must be the name of an earlier stage (earlier stages: " + earlier + ")"));
        return null;
      }
      if (!earlier.contains(source)) {
        errors.add(new SpecError(at + ".from", "names no earlier stage: `" + s.get("from").asText() + "`"
            + SpecParser.suggest(s.get("from").asText(), earlier) + " (earlier stages: " + earlier + ")"));
        return null;
      }
    }
    Explode explode = null;
    if (s.has("explode")) {
      explode = explode(s.get("explode"), at + ".explode", errors);
      if (explode == null) {
        return null;
      }
      if (explode.path().startsWith(SETUP + ".") && !s.has("from") && (source == null || !setup)) {
        if (!setup) {
          errors.add(new SpecError(at + ".explode", "reads setup." + explode.path().substring(6) + ", but the spec has no setup steps"));
          return null;
        }
        source = SETUP;
        explode = new Explode(explode.path().substring(SETUP.length() + 1), explode.as());
      }
    }
    String filter = null;
    if (s.has("filter")) {
      if (!s.get("filter").isTextual() || s.get("filter").asText().isBlank()) {
        errors.add(new SpecError(at + ".filter", "must be a condition, as a step's `when:` (e.g. `score >= 3`)"));
      } else {
        filter = s.get("filter").asText();
      }
    }
    return new Feed(source, explode, filter, at);
  }

  private static Explode explode(JsonNode e, String at, List<SpecError> errors) {
    String field;
    String as = null;
    if (e.isTextual()) {
      field = e.asText();
    } else if (e.isObject() && e.path("field").isTextual()) {
      field = e.get("field").asText();
      e.fieldNames().forEachRemaining(k -> {
        if (!k.equals("field") && !k.equals("as")) {
          errors.add(new SpecError(at + "." + k, "unknown field (known: as, field)"));
        }
      });
      if (e.has("as")) {
        as = e.get("as").asText();
        if (!e.get("as").isTextual() || !NAME.matcher(as).matches()) {
          errors.add(new SpecError(at + ".as", "must be a template name: letters, digits and _, not starting with a digit"));
          return null;
        }
      }
    } else {
      errors.add(new SpecError(at, "must be a list field of the source rows (`topics`, or a path such as `ideas.items`), or {field, as}"));
      return null;
    }
    if (!FIELD.matcher(field).matches()) {
      errors.add(new SpecError(at + (e.isObject() ? ".field" : ""), "must be a field or a dotted path such as `ideas.items`, got `" + field + "`"));
      return null;
    }
    if (as == null) {
      as = field.substring(field.lastIndexOf('.') + 1);
    }
    return new Explode(field, as);
  }

  /** Parses one stage's tree; its errors are added at their place in the whole spec (shared keys once). */
  private static Stage parse(String name, ObjectNode tree, Feed feed, String at, Set<SpecError> found) {
    try {
      return feed == null ? null : new Stage(name, tree, SpecParser.parse(tree), feed);
    } catch (SpecException e) {
      for (SpecError error : e.errors()) {
        found.add(repath(error, at));
      }
      return null;
    }
  }

  /** An error of a stage's own spec at its place in the whole spec: {@code steps[0]} of stage {@code at} is {@code <at>.steps[0]}. */
  public static SpecError repath(SpecError e, String at) {
    String p = e.path();
    boolean own = p.startsWith("steps") || p.startsWith("output") || p.startsWith("processors") || p.startsWith("input");
    if (!own || at.isEmpty()) {
      return e;
    }
    if (at.equals(SETUP)) {
      return new SpecError(p.startsWith("steps") ? SETUP + p.substring(5) : SETUP + "." + p, e.message());
    }
    return new SpecError(p.startsWith("input") ? p : at + "." + p, e.message());
  }
}
