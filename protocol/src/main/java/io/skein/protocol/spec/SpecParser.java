package io.skein.protocol.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a pipeline spec from YAML or JSON and checks its structure: required fields, types, unknown
 * keys (with a suggestion), model aliases and {@code continue} targets. Every error names its path.
 *
 * <p>Size: one reader per top-level key with path-and-suggestion errors; the step keys are checked
 * by the kinds' own schemas, so growth goes there, not here.
 */
public final class SpecParser {

  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final ObjectMapper YAML = YAMLMapper.builder().build();
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m)?");
  private static final Set<String> ROLES = Set.of("system", "user", "assistant");
  private static final Set<String> RESERVED = Set.of("index", "loop", "true", "false", "none");
  /** Keys of output and error rows, and of the annotation merged into them. */
  private static final Set<String> RESERVED_OUTPUT_FIELDS =
      Set.of("id", "messages", "index", "input", "calls", "timings", "error", "steps");

  public static final Set<String> TOP_KEYS =
      Set.of("name", "seed", "models", "input", "steps", "output", "processors", "retry", "max_in_flight", "cache", "files", "target", "max_cost", "max_error_rate",
          "max_records", "dedupe", "tools");
  private static final Set<String> MODEL_KEYS =
      Set.of("model", "temperature", "max_tokens", "top_p", "stop", "timeout", "params");
  private static final Set<String> INPUT_KEYS = Set.of("file", "records", "num_records", "fields", "sampling", "limit", "selection");
  /** The longest spec name (the job row keeps 255 characters). */
  public static final int MAX_NAME = 200;
  /** The most samples a step may ask for. */
  public static final int MAX_SAMPLES = 1000;

  /** The keys every step has; the others belong to its kind. */
  public static final Set<String> STEP_KEYS =
      Set.of("name", "kind", "when", "n", "drop", "with_trace", "extract_reasoning", "extract_reasoning_content", "skip_value");
  private static final Set<String> OUTPUT_KEYS = Set.of("messages", "fields");
  private static final Set<String> RETRY_KEYS =
      Set.of("max_attempts", "initial_backoff", "max_backoff", "pause_after");

  private final List<SpecError> errors = new ArrayList<>();

  private SpecParser() {}

  /** Parses YAML or JSON text (JSON is detected by its opening brace). */
  public static PipelineSpec parse(String text) {
    return parse(readTree(text));
  }

  /** Reads text into a tree without checking it, e.g. to store the spec as canonical JSON. */
  public static JsonNode readTree(String text) {
    if (text == null || text.isBlank()) {
      throw new SpecException("", "the spec is empty");
    }
    boolean json = text.stripLeading().startsWith("{");
    try {
      JsonNode tree = (json ? JSON : YAML).readTree(text);
      if (tree == null || tree.isMissingNode()) {
        throw new SpecException("", "the spec is empty");
      }
      return tree;
    } catch (JsonProcessingException e) {
      var loc = e.getLocation();
      String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
      throw new SpecException(
          "", "malformed " + (json ? "JSON" : "YAML") + where + ": " + e.getOriginalMessage());
    }
  }

  public static PipelineSpec parse(JsonNode root) {
    SpecParser parser = new SpecParser();
    PipelineSpec spec = parser.readSpec(root);
    if (!parser.errors.isEmpty()) {
      throw new SpecException(parser.errors);
    }
    return spec;
  }

  /** The spec as compact JSON, the form it is stored in. */
  public static String toJson(JsonNode root) {
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private PipelineSpec readSpec(JsonNode root) {
    if (!root.isObject()) {
      error("", "the spec must be a mapping with name, models, steps and output");
      return null;
    }
    if (Stages.isStaged(root)) {
      error(root.has("stages") ? "stages" : "setup", "a spec with stages or setup steps runs as a job of several stages; previews take a spec of one stage"
          + " (preview a stage by giving its steps as `steps:`)");
      return null;
    }
    checkKeys(root, "", TOP_KEYS);
    String name = requiredText(root, "name", "");
    if (name != null && name.length() > MAX_NAME) {
      error("name", "must be at most " + MAX_NAME + " characters (it names the job and its files), got " + name.length());
    }
    long seed = root.has("seed") ? integer(root.get("seed"), "seed", 0) : 0;
    Map<String, ModelSpec> models = readModels(root.get("models"));
    InputSpec input = readInput(root.get("input"));
    List<StepSpec> steps = readSteps(root.get("steps"));
    OutputSpec output = readOutput(root.get("output"));
    RetrySpec retry = readRetry(root.get("retry"));
    Integer maxInFlight = null;
    if (root.has("max_in_flight")) {
      maxInFlight = (int) integer(root.get("max_in_flight"), "max_in_flight", 1);
    }
    boolean cache = !root.has("cache") || bool(root.get("cache"), "cache");
    List<ProcessorSpec> processors = readProcessors(root.get("processors"));
    Map<String, String> files = readFiles(root.get("files"));
    TargetSpec target = readTarget(root, input);
    if (target != null && processors.stream().anyMatch(p -> "extras".equals(p.name()))) {
      error("processors", "`extras` is the dataset a job with `target` keeps the rows passed beyond it in: name this dataset otherwise");
    }
    return new PipelineSpec(name, seed, models, input, steps, output, retry, maxInFlight, cache, processors, files, target,
        DedupeSpec.read(root.get("dedupe"), this::error), ToolsSpec.read(root.get("tools"), this::error), readEarlyStop(root));
  }

  /** {@code max_cost: 25.00} and {@code max_error_rate: {rate: 0.5, window: 100}}: when the job pauses by itself. */
  private EarlyStop readEarlyStop(JsonNode root) {
    Double maxCost = root.has("max_cost") ? number(root.get("max_cost"), "max_cost", 0.000001, 1e9) : null;
    EarlyStop.ErrorRate errorRate = null;
    JsonNode r = root.get("max_error_rate");
    if (r != null) {
      if (!r.isObject()) {
        error("max_error_rate", "must be a mapping {rate: 0.5, window: 100}: pause when more than rate of the last window records failed");
      } else {
        checkKeys(r, "max_error_rate", Set.of("rate", "window"));
        Double rate = r.has("rate") ? number(r.get("rate"), "max_error_rate.rate", 0, 1) : null;
        if (rate == null && !r.has("rate")) {
          error("max_error_rate.rate", "is required: the share of failed records (0 to 1) past which the job pauses");
        }
        long window = r.has("window") ? integer(r.get("window"), "max_error_rate.window", 1) : 100;
        if (window > 100_000) {
          error("max_error_rate.window", "must be at most 100000 records");
        }
        errorRate = rate == null ? null : new EarlyStop.ErrorRate(rate, (int) Math.min(window, 100_000));
      }
    }
    return maxCost == null && errorRate == null ? EarlyStop.NONE : new EarlyStop(maxCost, errorRate);
  }

  /** {@code target} and {@code max_records}: the rows wanted, and the records that may be started for them. */
  private TargetSpec readTarget(JsonNode root, InputSpec input) {
    if (!root.has("target")) {
      if (root.has("max_records")) {
        error("max_records", "bounds the records a `target` may start; give `target: N` (the rows wanted) too");
      }
      return null;
    }
    long rows = integer(root.get("target"), "target", 1);
    long max = root.has("max_records") ? integer(root.get("max_records"), "max_records", 1) : rows * TargetSpec.DEFAULT_FACTOR;
    if (max < rows) {
      error("max_records", "is " + max + ", fewer than the " + rows + " rows `target` asks for");
    }
    if (input != null && input.numRecords() != null) {
      error("input.num_records", "a spec with `target` makes records until that many pass (at most max_records):"
          + " leave out num_records");
    }
    if (input != null && input.limit() != null) {
      error("input.limit", "a spec with `target` is bounded by max_records: leave out input.limit");
    }
    return new TargetSpec(rows, max);
  }

  /**
   * {@code files: {name: {text: ..., path: ...}}}, as stored; a bare path is what `skein run` reads
   * from disk before it submits, so a server (which reads no files named in a spec) refuses it.
   */
  private Map<String, String> readFiles(JsonNode node) {
    Map<String, String> files = new LinkedHashMap<>();
    if (node == null || node.isNull()) {
      return files;
    }
    if (!node.isObject()) {
      error("files", "must be a mapping from a name to a file (`skein run`) or to {text: ...}");
      return files;
    }
    node.fields().forEachRemaining(e -> {
      String path = "files." + e.getKey();
      if (!NAME.matcher(e.getKey()).matches()) {
        error(path, "must be a template name: letters, digits and _, not starting with a digit");
      } else if (e.getValue().isTextual()) {
        error(path, "names a file (" + e.getValue().asText() + "): `skein run` reads it; a server reads no files named in a spec,"
            + " so send its text as {text: ...}");
      } else if (!e.getValue().isObject() || !e.getValue().path("text").isTextual()) {
        error(path, "must be {text: ..., path: ...} (the file's text, and optionally where it came from)");
      } else {
        checkKeys(e.getValue(), path, Set.of("text", "path"));
        files.put(e.getKey(), e.getValue().get("text").asText());
      }
    });
    return files;
  }

  private Map<String, ModelSpec> readModels(JsonNode node) {
    Map<String, ModelSpec> models = new LinkedHashMap<>();
    if (node == null || node.isNull()) {
      return models;
    }
    if (!node.isObject()) {
      error("models", "must be a mapping from alias to {model: ..., temperature: ...}");
      return models;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      var entry = it.next();
      String alias = entry.getKey();
      String path = "models." + alias;
      JsonNode m = entry.getValue();
      if (m.isTextual()) {
        models.put(alias, new ModelSpec(alias, m.asText(), null, null, null, List.of(), null, Map.of()));
        continue;
      }
      if (!m.isObject()) {
        error(path, "must be a model name or a mapping with at least `model`");
        continue;
      }
      checkKeys(m, path, MODEL_KEYS);
      String model = requiredText(m, "model", path);
      if (model != null && (model.contains("://") || model.contains("/v1"))) {
        error(path + ".model", "names a model, not an endpoint: endpoints are bound in the server's config");
      }
      boolean drawnTemperature = m.path("temperature").isObject();
      boolean drawnTopP = m.path("top_p").isObject();
      Double temperature = m.has("temperature") && !drawnTemperature ? number(m.get("temperature"), path + ".temperature", 0, 2) : null;
      Double topP = m.has("top_p") && !drawnTopP ? number(m.get("top_p"), path + ".top_p", 0, 1) : null;
      ParamDistribution temperatures = drawnTemperature ? ParamDistribution.read(m.get("temperature"), path + ".temperature", 0, 2, this::error) : null;
      ParamDistribution topPs = drawnTopP ? ParamDistribution.read(m.get("top_p"), path + ".top_p", 0, 1, this::error) : null;
      Integer maxTokens = m.has("max_tokens") ? (int) integer(m.get("max_tokens"), path + ".max_tokens", 1) : null;
      Integer timeout = m.has("timeout") ? seconds(duration(m.get("timeout"), path + ".timeout"), path + ".timeout") : null;
      List<String> stop = m.has("stop") ? stringList(m.get("stop"), path + ".stop") : List.of();
      Map<String, Object> params = Map.of();
      if (m.has("params")) {
        if (m.get("params").isObject()) {
          params = JSON.convertValue(m.get("params"), JSON.getTypeFactory().constructMapType(Map.class, String.class, Object.class));
        } else {
          error(path + ".params", "must be a mapping of extra request fields");
        }
      }
      models.put(alias, new ModelSpec(alias, model, temperature, maxTokens, topP, stop, timeout, params, temperatures, topPs));
    }
    return models;
  }

  private InputSpec readInput(JsonNode node) {
    if (node == null || node.isNull()) {
      return InputSpec.NONE;
    }
    if (!node.isObject()) {
      error("input", "must be a mapping with file, records or num_records");
      return InputSpec.NONE;
    }
    checkKeys(node, "input", INPUT_KEYS);
    if (node.has("file") && node.has("records")) {
      error("input", "give only one of file or records (num_records draws that many of their rows)");
    }
    String file = node.has("file") ? text(node.get("file"), "input.file") : null;
    List<JsonNode> records = null;
    if (node.has("records")) {
      JsonNode r = node.get("records");
      if (!r.isArray()) {
        error("input.records", "must be a list of records");
      } else {
        records = new ArrayList<>();
        for (int i = 0; i < r.size(); i++) {
          if (!r.get(i).isObject()) {
            error("input.records[" + i + "]", "a record must be a mapping of fields");
          }
          records.add(r.get(i));
        }
      }
    }
    Long numRecords = node.has("num_records") ? integer(node.get("num_records"), "input.num_records", 1) : null;
    List<String> fields = node.has("fields") ? stringList(node.get("fields"), "input.fields") : List.of();
    String sampling = node.has("sampling") ? text(node.get("sampling"), "input.sampling") : null;
    if (sampling != null && !InputSpec.SAMPLINGS.contains(sampling)) {
      error("input.sampling", "must be one of " + InputSpec.SAMPLINGS + ", got `" + sampling + "`" + suggest(sampling, InputSpec.SAMPLINGS));
    }
    if (sampling != null && !node.has("file") && !node.has("records")) {
      error("input.sampling", "samples the rows of a file or of records; give input.file or input.records");
    }
    Long limit = node.has("limit") ? integer(node.get("limit"), "input.limit", 1) : null;
    InputSpec.Selection selection = node.has("selection") ? selection(node.get("selection")) : null;
    if (selection != null && !node.has("file") && !node.has("records")) {
      error("input.selection", "selects rows of a file or of records; give input.file or input.records");
    }
    return new InputSpec(file, records, numRecords, fields, sampling, limit, selection);
  }

  /** {@code {start, end}} or {@code {index, num_partitions}}, as Data Designer's selection strategies. */
  private InputSpec.Selection selection(JsonNode node) {
    String path = "input.selection";
    if (node.isObject() && node.has("start") && node.has("end") && node.size() == 2) {
      long start = integer(node.get("start"), path + ".start", 0);
      long end = integer(node.get("end"), path + ".end", 0);
      if (start > end) {
        error(path + ".end", "must not be below start (both rows are included, counted from 0)");
      }
      return InputSpec.Selection.range(start, end);
    }
    if (node.isObject() && node.has("num_partitions") && node.size() <= 2 && (node.size() == 1 || node.has("index"))) {
      long partitions = integer(node.get("num_partitions"), path + ".num_partitions", 1);
      long index = node.has("index") ? integer(node.get("index"), path + ".index", 0) : 0;
      if (index >= partitions) {
        error(path + ".index", "must be below num_partitions (blocks are counted from 0)");
      }
      return InputSpec.Selection.partition((int) index, (int) partitions);
    }
    error(path, "must be {start, end} (rows, both included, from 0) or {index, num_partitions} (a block of equal blocks)");
    return null;
  }

  private List<StepSpec> readSteps(JsonNode node) {
    List<StepSpec> steps = new ArrayList<>();
    if (node == null || !node.isArray() || node.isEmpty()) {
      error("steps", "must be a non-empty list of steps");
      return steps;
    }
    Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      JsonNode s = node.get(i);
      String path = "steps[" + i + "]";
      if (!s.isObject()) {
        error(path, "a step must be a mapping with name and prompt");
        continue;
      }
      String name = requiredText(s, "name", path);
      if (name == null) {
        continue;
      }
      path = "steps[" + i + "] (" + name + ")";
      if (!NAME.matcher(name).matches()) {
        error(path + ".name", "must be a template name: letters, digits and _, not starting with a digit");
      } else if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
        error(path + ".name", "`" + name + "` is reserved; choose another name");
      } else if (name.contains("__")) {
        error(path + ".name", "must not contain `__`, which marks the fields Skein adds (`<step>__trace`, `<step>__reasoning_content`)");
      }
      if (!seen.add(name)) {
        error(path + ".name", "step name `" + name + "` is used twice");
      }
      String kind = s.has("kind") ? text(s.get("kind"), path + ".kind") : StepSpec.KIND_LLM;
      String when = s.has("when") ? text(s.get("when"), path + ".when") : null;
      int n = s.has("n") ? (int) integer(s.get("n"), path + ".n", 1) : 1;
      if (n > MAX_SAMPLES) {
        error(path + ".n", "must be at most " + MAX_SAMPLES + ": each sample is a call of this one record");
        n = 1;
      }
      boolean drop = s.has("drop") && bool(s.get("drop"), path + ".drop");
      String trace = s.has("with_trace") ? trace(s.get("with_trace"), path + ".with_trace") : "none";
      // extract_reasoning_content is Data Designer's name for the same key.
      boolean reasoning = s.has("extract_reasoning") && bool(s.get("extract_reasoning"), path + ".extract_reasoning")
          || s.has("extract_reasoning_content") && bool(s.get("extract_reasoning_content"), path + ".extract_reasoning_content");
      ObjectNode config = ((ObjectNode) s).deepCopy();
      config.remove(STEP_KEYS);
      if (s.has("skip_value")) {
        config.set("skip_value", s.get("skip_value")); // read by the planner, whatever the kind
      }
      steps.add(new StepSpec(name, kind, i, when, n, drop, trace, reasoning, config));
    }
    return steps;
  }

  private String trace(JsonNode v, String path) {
    String t = text(v, path);
    if (t == null) {
      return "none";
    }
    return switch (t) {
      case "none" -> "none";
      case "last", "last_message" -> "last";
      case "all", "all_messages" -> "all";
      default -> {
        error(path, "must be none, last or all, got `" + t + "`");
        yield "none";
      }
    };
  }

  private boolean bool(JsonNode v, String path) {
    if (!v.isBoolean()) {
      error(path, "must be true or false, got " + v);
      return false;
    }
    return v.booleanValue();
  }

  private List<ProcessorSpec> readProcessors(JsonNode node) {
    List<ProcessorSpec> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isArray()) {
      error("processors", "must be a list of {name, template} datasets and {drop: [fields]}");
      return out;
    }
    Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      JsonNode p = node.get(i);
      String path = "processors[" + i + "]";
      if (!p.isObject()) {
        error(path, "must be {name, template} or {drop: [fields]}");
        continue;
      }
      checkKeys(p, path, Set.of("name", "template", "drop"));
      if (p.has("drop")) {
        if (p.has("template") || p.has("name")) {
          error(path, "a drop processor has only `drop`; a dataset has `name` and `template`");
        }
        out.add(new ProcessorSpec(null, null, stringList(p.get("drop"), path + ".drop")));
        continue;
      }
      String name = requiredText(p, "name", path);
      if (name != null && !name.matches("[A-Za-z0-9_-]+")) {
        error(path + ".name", "must be letters, digits, _ and -: it names a dataset in URLs and files");
      } else if (name != null && !names.add(name)) {
        error(path + ".name", "dataset `" + name + "` is named twice");
      }
      if (!p.has("template") || !(p.get("template").isObject() || p.get("template").isArray())) {
        error(path + ".template", "missing: the row of this dataset, a mapping (or list) whose strings are templates");
        continue;
      }
      out.add(new ProcessorSpec(name, p.get("template"), List.of()));
    }
    return out;
  }

  private OutputSpec readOutput(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      error("output", "must be a mapping with messages and/or fields");
      return null;
    }
    checkKeys(node, "output", OUTPUT_KEYS);
    List<MessageTemplate> messages = node.has("messages") ? messages(node.get("messages"), "output.messages") : null;
    Map<String, String> fields = new LinkedHashMap<>();
    if (node.has("fields")) {
      JsonNode f = node.get("fields");
      if (!f.isObject()) {
        error("output.fields", "must be a mapping from field name to template");
      } else {
        f.fields().forEachRemaining(e -> {
          String key = e.getKey();
          if (RESERVED_OUTPUT_FIELDS.contains(key)) {
            error("output.fields." + key, "`" + key + "` is set by Skein; choose another name");
          }
          fields.put(key, text(e.getValue(), "output.fields." + key));
        });
      }
    }
    return new OutputSpec(messages, fields);
  }

  private RetrySpec readRetry(JsonNode node) {
    if (node == null || node.isNull()) {
      return RetrySpec.DEFAULT;
    }
    if (!node.isObject()) {
      error("retry", "must be a mapping with max_attempts, initial_backoff, max_backoff, pause_after");
      return RetrySpec.DEFAULT;
    }
    checkKeys(node, "retry", RETRY_KEYS);
    RetrySpec d = RetrySpec.DEFAULT;
    int attempts = node.has("max_attempts") ? (int) integer(node.get("max_attempts"), "retry.max_attempts", 1) : d.maxAttempts();
    long initial = node.has("initial_backoff") ? duration(node.get("initial_backoff"), "retry.initial_backoff") : d.initialBackoffMillis();
    long max = node.has("max_backoff") ? duration(node.get("max_backoff"), "retry.max_backoff") : Math.max(initial, d.maxBackoffMillis());
    if (max < initial) {
      error("retry.max_backoff", "must not be below initial_backoff");
    }
    long pauseAfter = node.has("pause_after") ? duration(node.get("pause_after"), "retry.pause_after") : d.pauseAfterMillis();
    return new RetrySpec(attempts, initial, max, pauseAfter);
  }

  private List<MessageTemplate> messages(JsonNode node, String path) {
    List<MessageTemplate> out = new ArrayList<>();
    if (!node.isArray() || node.isEmpty()) {
      error(path, "must be a non-empty list of {role, content}");
      return out;
    }
    for (int i = 0; i < node.size(); i++) {
      JsonNode m = node.get(i);
      String p = path + "[" + i + "]";
      if (!m.isObject()) {
        error(p, "a message must be a mapping with role and content");
        continue;
      }
      checkKeys(m, p, Set.of("role", "content"));
      String role = requiredText(m, "role", p);
      if (role != null && !ROLES.contains(role)) {
        error(p + ".role", "unknown role `" + role + "` (known: system, user, assistant)");
      }
      String content = requiredText(m, "content", p);
      out.add(new MessageTemplate(role, content));
    }
    return out;
  }

  private void checkKeys(JsonNode node, String path, Set<String> known) {
    node.fieldNames().forEachRemaining(key -> {
      if (!known.contains(key)) {
        error(join(path, key), "unknown field" + suggest(key, known) + " (known: " + String.join(", ", new java.util.TreeSet<>(known)) + ")");
      }
    });
  }

  private String requiredText(JsonNode node, String field, String path) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      error(join(path, field), "missing");
      return null;
    }
    return text(v, join(path, field));
  }

  private String text(JsonNode v, String path) {
    if (v.isTextual()) {
      return v.asText();
    }
    if (v.isNumber() || v.isBoolean()) {
      return v.asText();
    }
    error(path, "must be a string");
    return null;
  }

  private long integer(JsonNode v, String path, long min) {
    if (!v.canConvertToLong() || !v.isIntegralNumber()) {
      error(path, "must be a whole number");
      return min;
    }
    if (v.asLong() < min) {
      error(path, "must be at least " + min);
      return min;
    }
    return v.asLong();
  }

  private Double number(JsonNode v, String path, double min, double max) {
    if (!v.isNumber()) {
      error(path, "must be a number");
      return null;
    }
    double d = v.asDouble();
    if (d < min || d > max) {
      error(path, "must be between " + min + " and " + max);
    }
    return d;
  }

  /** A model's request timeout, in whole seconds: from 1 s to a day. */
  private Integer seconds(long millis, String path) {
    if (millis < 1000 || millis > 86_400_000L) {
      error(path, "must be between 1s and 24h (how long one answer may take)");
      return null;
    }
    return (int) ((millis + 999) / 1000);
  }

  private long duration(JsonNode v, String path) {
    if (v.isIntegralNumber()) {
      return v.asLong() * 1000;
    }
    Matcher m = DURATION.matcher(v.asText().trim());
    if (!v.isTextual() || !m.matches()) {
      error(path, "must be a duration such as 500ms, 30s or 2m");
      return 0;
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> n;
      case "m" -> n * 60_000;
      default -> n * 1000;
    };
  }

  private List<String> stringList(JsonNode v, String path) {
    List<String> out = new ArrayList<>();
    if (v.isTextual()) {
      out.add(v.asText());
    } else if (v.isArray()) {
      for (int i = 0; i < v.size(); i++) {
        String s = text(v.get(i), path + "[" + i + "]");
        if (s != null) {
          out.add(s);
        }
      }
    } else {
      error(path, "must be a list of strings");
    }
    return out;
  }

  private void error(String path, String message) {
    errors.add(new SpecError(path, message));
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  /** "; did you mean `x`?" when a known name is within two edits, else "". */
  public static String suggest(String given, java.util.Collection<String> known) {
    String best = null;
    int bestDistance = 3;
    for (String k : known) {
      int d = distance(given.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return best == null ? "" : "; did you mean `" + best + "`?";
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** Replaces inline records by nothing: what is stored as the job's spec (records go to the input table). */
  public static JsonNode withoutInlineRecords(JsonNode root) {
    if (root.isObject() && root.path("input").has("records")) {
      ObjectNode copy = root.deepCopy();
      ((ObjectNode) copy.get("input")).remove("records");
      return copy;
    }
    return root;
  }
}
