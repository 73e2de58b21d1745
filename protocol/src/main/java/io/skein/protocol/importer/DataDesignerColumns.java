package io.skein.protocol.importer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One Data Designer column as one Skein step (see {@link DataDesignerImport}). Data Designer's
 * templates are Jinja, as Skein's, and its samplers' parameters have Skein's names, so most of a
 * column carries over as it is; what does not is a {@link Gap}.
 */
final class DataDesignerColumns {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** Data Designer's sampler types → Skein's; those missing here are not built in Skein. */
  private static final Map<String, String> SAMPLERS = Map.ofEntries(
      Map.entry("category", "category"), Map.entry("subcategory", "subcategory"), Map.entry("uniform", "uniform"),
      Map.entry("gaussian", "gaussian"), Map.entry("bernoulli", "bernoulli"), Map.entry("binomial", "binomial"),
      Map.entry("poisson", "poisson"), Map.entry("uuid", "uuid"), Map.entry("datetime", "datetime"),
      Map.entry("timedelta", "timedelta"), Map.entry("person_from_faker", "person"), Map.entry("scipy", "scipy"),
      Map.entry("bernoulli_mixture", "bernoulli_mixture"));

  private static final Map<String, String> LLM_KINDS = Map.of(
      "llm-text", "llm", "llm-code", "llm-code", "llm-structured", "llm-structured", "llm-judge", "llm-judge");

  private DataDesignerColumns() {}

  /** The step for {@code column}, or empty (with the reason in {@code gaps}) when it cannot be one. */
  static Optional<ObjectNode> step(JsonNode column, List<Gap> gaps) {
    String name = column.path("name").asText();
    String type = column.path("column_type").asText();
    Optional<ObjectNode> step = switch (type) {
      case "sampler" -> sampler(column, name, gaps);
      case "expression" -> Optional.of(expression(column, name));
      case "llm-text", "llm-code", "llm-structured", "llm-judge" -> llm(column, name, type, gaps);
      case "validation" -> validation(column, name, gaps);
      case "custom" -> none(gaps, name, "a `custom` column runs a Python function, which Skein cannot run; write it as a Java"
          + " step kind, or as an expression if a template can say it");
      case "embedding" -> none(gaps, name, "`embedding` columns are not built in Skein yet");
      case "image" -> none(gaps, name, "`image` columns (image generation) are not built in Skein yet");
      case "" -> none(gaps, name.isEmpty() ? "columns" : name, "a column without `column_type`");
      default -> none(gaps, name, "unknown column type `" + type + "`");
    };
    step.ifPresent(s -> common(column, name, s, gaps));
    return step;
  }

  private static Optional<ObjectNode> none(List<Gap> gaps, String name, String reason) {
    gaps.add(Gap.dropped(name, reason));
    return Optional.empty();
  }

  /** {@code drop}, and {@code skip} / {@code propagate_skip} as Skein's {@code when}. */
  private static void common(JsonNode column, String name, ObjectNode step, List<Gap> gaps) {
    if (column.path("drop").asBoolean(false)) {
      step.put("drop", true);
    }
    JsonNode skip = column.path("skip");
    if (skip.isObject() && skip.hasNonNull("when")) {
      step.put("when", "not (" + withoutBraces(skip.get("when").asText()) + ")");
      if (skip.hasNonNull("value")) {
        step.set("skip_value", skip.get("value"));
      }
    } else if (!column.path("propagate_skip").asBoolean(true)) {
      // A step with a `when` of its own is not skipped with the steps it reads: propagate_skip: false.
      step.put("when", "true");
    }
  }

  /** {@code "{{ x == 1 }}"} → {@code "x == 1"}: Skein's conditions are Jinja without braces. */
  static String withoutBraces(String template) {
    String t = template.strip();
    if (t.startsWith("{{") && t.endsWith("}}")) {
      return t.substring(2, t.length() - 2).strip();
    }
    return t;
  }

  private static Optional<ObjectNode> sampler(JsonNode column, String name, List<Gap> gaps) {
    String type = column.path("sampler_type").asText(column.path("params").path("sampler_type").asText());
    String skeinType = SAMPLERS.get(type);
    if (skeinType == null) {
      return none(gaps, name, type.equals("person")
          ? "the `person` sampler draws from Data Designer's downloaded persona datasets; use `person_from_faker` (Skein's `person`)"
          : "sampler `" + type + "` is not built in Skein yet");
    }
    ObjectNode step = NODES.objectNode().put("name", name).put("kind", "sampler").put("sampler", skeinType);
    step.set("params", params(column.path("params")));
    if (column.hasNonNull("convert_to")) {
      step.put("convert_to", column.get("convert_to").asText());
    }
    JsonNode conditional = column.path("conditional_params");
    if (conditional.isObject() && !conditional.isEmpty()) {
      ObjectNode branches = step.putObject("conditional");
      conditional.fields().forEachRemaining(e -> branches.set(e.getKey(), params(e.getValue())));
    }
    return Optional.of(step);
  }

  /** A sampler's parameters without its {@code sampler_type} and the unset (null) ones. */
  private static ObjectNode params(JsonNode params) {
    ObjectNode out = NODES.objectNode();
    params.fields().forEachRemaining(e -> {
      if (!e.getKey().equals("sampler_type") && !e.getValue().isNull()) {
        out.set(e.getKey(), e.getValue());
      }
    });
    return out;
  }

  private static ObjectNode expression(JsonNode column, String name) {
    ObjectNode step = NODES.objectNode().put("name", name).put("kind", "expression").put("expr", column.path("expr").asText());
    if (column.hasNonNull("dtype")) {
      step.put("type", column.get("dtype").asText());
    }
    return step;
  }

  private static Optional<ObjectNode> llm(JsonNode column, String name, String type, List<Gap> gaps) {
    ObjectNode step = NODES.objectNode().put("name", name).put("kind", LLM_KINDS.get(type))
        .put("model", column.path("model_alias").asText());
    if (column.hasNonNull("tool_alias")) {
      step.putArray("tools").add(column.get("tool_alias").asText());
    }
    if (column.hasNonNull("system_prompt")) {
      step.put("system", column.get("system_prompt").asText());
    }
    step.put("prompt", column.path("prompt").asText());
    switch (type) {
      case "llm-code" -> step.put("language", column.path("code_lang").asText("python"));
      case "llm-structured" -> step.set("schema", column.path("output_format"));
      case "llm-judge" -> step.put("text_scores", true).set("scores", column.path("scores"));
      default -> { }
    }
    String trace = column.path("with_trace").asText("none");
    if (!trace.equals("none")) {
      step.put("with_trace", trace);
    }
    if (column.path("extract_reasoning_content").asBoolean(false)) {
      step.put("extract_reasoning_content", true);
    }
    images(column.path("multi_modal_context"), name, gaps).ifPresent(images -> step.set("images", images));
    return Optional.of(step);
  }

  /** multi_modal_context's images as `images: [{field, type, format}]`; audio and video are not sent (a gap each). */
  private static Optional<ArrayNode> images(JsonNode contexts, String name, List<Gap> gaps) {
    ArrayNode images = NODES.arrayNode();
    for (JsonNode c : contexts) {
      String modality = c.path("modality").asText("image");
      if (!modality.equals("image")) {
        gaps.add(Gap.differs(name, "multi_modal_context: " + modality + " (`" + c.path("column_name").asText()
            + "`) is not sent: Skein sends images only"));
        continue;
      }
      ObjectNode image = images.addObject().put("field", c.path("column_name").asText());
      if (c.hasNonNull("data_type")) {
        image.put("type", c.get("data_type").asText());
      }
      if (c.hasNonNull("image_format")) {
        image.put("format", c.get("image_format").asText());
      }
    }
    return images.isEmpty() ? Optional.empty() : Optional.of(images);
  }

  private static Optional<ObjectNode> validation(JsonNode column, String name, List<Gap> gaps) {
    String validator = column.path("validator_type").asText();
    if (!validator.equals("code")) {
      return none(gaps, name, "`" + validator + "` validators are not built in Skein (only code validators)");
    }
    JsonNode targets = column.path("target_columns");
    if (targets.size() != 1) {
      return none(gaps, name, "a validation column over " + targets.size() + " columns: Skein's validator checks one target");
    }
    String lang = column.path("validator_params").path("code_lang").asText();
    ObjectNode step = NODES.objectNode().put("name", name).put("kind", "validator").put("target", targets.get(0).asText());
    if (lang.equals("python")) {
      step.put("validator", "python");
    } else if (lang.startsWith("sql:")) {
      step.put("validator", "sql").put("dialect", lang.substring(4));
    } else {
      return none(gaps, name, "code validators for `" + lang + "` are not built in Skein (python and sql:<dialect> are)");
    }
    step.put("shape", "data-designer");
    gaps.add(Gap.differs(name, "Skein checks " + (lang.equals("python") ? "Python" : "SQL") + " syntax (no "
        + (lang.equals("python") ? "ruff" : "sqlfluff") + " rules): the value has Data Designer's fields, from that check alone"));
    return Optional.of(step);
  }
}
