package io.skein.protocol.importer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A config written by Data Designer's {@code write_config} (top-level {@code data_designer:} with
 * {@code columns}, {@code model_configs}, {@code seed_config}, {@code processors},
 * {@code constraints}, {@code tool_configs}; and {@code library_version}) as a Skein spec: each column
 * a step ({@link DataDesignerColumns}), each model config a model alias, the seed dataset the input,
 * the processors Skein's. What cannot carry over is a {@link Gap}, named by column, and the rest
 * still converts. Pure: JSON in, JSON out; the caller reads and writes files.
 *
 * <p>Written over Jackson's tree rather than bound to classes: Data Designer's config changes between
 * versions, and a field this importer does not know must be reported, not fail the import.
 */
public final class DataDesignerImport {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** Records made when the config has no seed dataset and the caller gives no number. */
  public static final int DEFAULT_RECORDS = 10;

  public record Converted(ObjectNode spec, List<Gap> gaps) {}

  private DataDesignerImport() {}

  /** Whether {@code root} is a Data Designer config rather than a Skein spec. */
  public static boolean isConfig(JsonNode root) {
    return root != null && root.path("data_designer").path("columns").isArray();
  }

  /**
   * The spec named {@code name}; {@code numRecords} plays the part of Data Designer's
   * {@code create(num_records=...)} (null: the seed dataset's rows, or {@value #DEFAULT_RECORDS}).
   */
  public static Converted convert(JsonNode root, String name, Integer numRecords) {
    if (!isConfig(root)) {
      throw new IllegalArgumentException("not a Data Designer config: it has no `data_designer.columns` list");
    }
    JsonNode config = root.get("data_designer");
    List<Gap> gaps = new ArrayList<>();
    ObjectNode spec = NODES.objectNode().put("name", name);
    spec.set("models", models(config.path("model_configs"), gaps));
    spec.set("input", input(config.path("seed_config"), numRecords, gaps));
    ObjectNode tools = tools(config.path("tool_configs"));
    if (!tools.isEmpty()) {
      spec.set("tools", tools);
    }
    ArrayNode steps = spec.putArray("steps");
    for (JsonNode column : config.path("columns")) {
      if (!column.path("column_type").asText().equals("seed-dataset")) {
        DataDesignerColumns.step(column, gaps).ifPresent(steps::add);
      }
    }
    ArrayNode processors = processors(config.path("processors"), gaps);
    if (!processors.isEmpty()) {
      spec.set("processors", processors);
    }
    constraints(config.path("constraints"), steps, gaps);
    unsupported(config, gaps);
    return new Converted(spec, List.copyOf(gaps));
  }

  private static ObjectNode models(JsonNode configs, List<Gap> gaps) {
    ObjectNode models = NODES.objectNode();
    for (JsonNode m : configs) {
      String alias = m.path("alias").asText();
      String where = "model_configs." + alias;
      JsonNode params = m.path("inference_parameters");
      ObjectNode model = models.putObject(alias).put("model", m.path("model").asText());
      String generation = params.path("generation_type").asText("chat-completion");
      if (!generation.equals("chat-completion")) {
        gaps.add(Gap.differs(where, "generation_type `" + generation + "`: Skein makes chat completions only"));
      }
      for (String key : List.of("temperature", "top_p")) {
        JsonNode value = params.path(key);
        if (value.isNumber()) {
          model.set(key, value);
        } else if (value.isObject()) {
          model.set(key, Distributions.skein(value));
        }
      }
      for (String key : List.of("max_tokens", "timeout")) {
        if (params.hasNonNull(key)) {
          model.set(key, params.get(key));
        }
      }
      if (params.path("extra_body").isObject() && !params.get("extra_body").isEmpty()) {
        model.set("params", params.get("extra_body"));
      }
      if (params.hasNonNull("max_parallel_requests")) {
        gaps.add(Gap.differs(where, "max_parallel_requests: " + params.get("max_parallel_requests").asText() + " is the server's"
            + " to set in Skein (skein.models.providers.\"" + m.path("model").asText() + "\".max-concurrency), across the cluster"));
      }
    }
    return models;
  }

  private static ObjectNode input(JsonNode seed, Integer numRecords, List<Gap> gaps) {
    ObjectNode input = NODES.objectNode();
    boolean seeded = false;
    if (seed.isObject()) {
      JsonNode source = seed.path("source");
      String type = source.path("seed_type").asText();
      if (type.equals("local") && source.hasNonNull("path")) {
        input.put("file", source.get("path").asText());
        seeded = true;
        String sampling = seed.path("sampling_strategy").asText("ordered");
        input.put("sampling", sampling);
        if (seed.path("selection_strategy").isObject()) {
          input.set("selection", seed.get("selection_strategy"));
        }
      } else {
        gaps.add(Gap.dropped("seed_config", "a `" + type + "` seed dataset needs the network or a service; save it as a local"
            + " JSONL, CSV or Parquet file and point seed_config at it"));
      }
    }
    if (numRecords != null) {
      input.put("num_records", numRecords);
    } else if (!seeded) {
      input.put("num_records", DEFAULT_RECORDS);
    }
    return input;
  }

  private static ArrayNode processors(JsonNode processors, List<Gap> gaps) {
    ArrayNode out = NODES.arrayNode();
    for (JsonNode p : processors) {
      String type = p.path("processor_type").asText();
      String name = p.path("name").asText(type);
      switch (type) {
        case "drop_columns" -> out.addObject().set("drop", p.path("column_names"));
        case "schema_transform" -> out.addObject().put("name", name).set("template", p.path("template"));
        default -> gaps.add(Gap.dropped("processors." + name, "processor type `" + type + "` is not built in Skein"));
      }
    }
    return out;
  }

  private static final java.util.Map<String, String> OPERATORS = java.util.Map.of("lt", "<", "le", "<=", "gt", ">", "ge", ">=");

  /**
   * constraints as the target sampler's {@code accept}: {@code scalar_inequality} against a number,
   * {@code column_inequality} against another column (a name), several on one column joined by {@code and}.
   */
  private static void constraints(JsonNode constraints, ArrayNode steps, List<Gap> gaps) {
    for (int i = 0; i < constraints.size(); i++) {
      JsonNode c = constraints.get(i);
      String target = c.path("target_column").asText();
      String operator = OPERATORS.get(c.path("operator").asText());
      JsonNode rhs = c.path("rhs");
      ObjectNode step = null;
      for (JsonNode s : steps) {
        if (s.path("name").asText().equals(target) && s.path("kind").asText().equals("sampler")) {
          step = (ObjectNode) s;
        }
      }
      if (step == null || operator == null) {
        gaps.add(Gap.dropped("constraints[" + i + "]", c.path("constraint_type").asText() + " on `" + target + "`: "
            + (operator == null ? "operator `" + c.path("operator").asText() + "` is not lt, le, gt or ge" : "`" + target + "` is not a sampler column")));
        continue;
      }
      String condition = target + " " + operator + " " + rhs.asText();
      step.put("accept", step.has("accept") ? step.get("accept").asText() + " and " + condition : condition);
    }
  }

  /**
   * {@code tool_configs} as the spec's tool sets: each {@code tool_alias} a set, its
   * {@code providers} the names of MCP servers of the node's config (Data Designer keeps its MCP
   * providers outside the config too), {@code allow_tools}, {@code max_tool_call_turns} and
   * {@code timeout_sec} as they are.
   */
  private static ObjectNode tools(JsonNode configs) {
    ObjectNode out = NODES.objectNode();
    for (JsonNode t : configs) {
      ObjectNode set = out.putObject(t.path("tool_alias").asText());
      ArrayNode servers = set.putArray("servers");
      t.path("providers").forEach(p -> servers.add(p.asText()));
      if (t.path("allow_tools").isArray() && !t.get("allow_tools").isEmpty()) {
        set.set("allow", t.get("allow_tools"));
      }
      if (t.hasNonNull("max_tool_call_turns")) {
        set.put("max_tool_turns", t.get("max_tool_call_turns").asInt());
      }
      if (t.hasNonNull("timeout_sec")) {
        set.put("timeout", (int) Math.ceil(t.get("timeout_sec").asDouble()));
      }
    }
    return out;
  }

  /** Parts of the config Skein has no counterpart for yet. */
  private static void unsupported(JsonNode config, List<Gap> gaps) {
    if (config.path("profilers").isArray() && !config.get("profilers").isEmpty()) {
      gaps.add(Gap.dropped("profilers", "Skein has no profilers"));
    }
  }
}
