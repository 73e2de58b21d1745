package io.skein.worker.step;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.protocol.spec.MessageTemplate;
import io.skein.protocol.spec.ModelSpec;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.StepSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The keys every model step has: its model alias, {@code system} and {@code prompt} or the whole
 * {@code messages}, {@code continue} (append to another step's conversation), and how often it may
 * ask again: {@code max_correction_steps} (the errors go back in the same conversation) and
 * {@code max_restarts} (the conversation starts over, or a validator sends it back); {@code tools}
 * (sets of MCP tools the model may call, from the spec's {@code tools:}) and the rounds of tool calls
 * one conversation may make (the smallest {@code max_tool_turns} of those sets).
 */
public record ModelConfig(
    ModelSpec model, String system, String prompt, List<MessageTemplate> messages, String continueFrom,
    int maxCorrections, int maxRestarts, List<Images.Source> images, List<String> tools, int maxToolTurns) {

  /** The JSON Schema properties of these keys, for a kind's {@link StepKind#schema()}. */
  public static final String PROPERTIES = """
      "model": {"type": "string", "description": "A model alias declared under `models` (a continued step uses the model of the conversation it continues unless it names one)."},
      "system": {"type": "string", "description": "The system message (a template)."},
      "prompt": {"type": "string", "description": "The user message (a template)."},
      "messages": {"type": "array", "minItems": 1, "description": "The whole conversation instead of system and prompt: a list of {role, content} templates.",
        "items": {"type": "object", "additionalProperties": false, "required": ["role", "content"],
          "properties": {"role": {"enum": ["system", "user", "assistant"]}, "content": {"type": "string"}}}},
      "continue": {"type": "string", "description": "Append `prompt` to the conversation of this model step (multi-turn)."},
      "max_restarts": {"type": "integer", "minimum": 0, "description": "How many times the conversation may start over (or a validator with on_fail: regenerate may send it back) before the record fails."},
      "tools": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "Sets of MCP tools (names under the spec's `tools`) the model may call before it answers."},
      """ + Images.PROPERTY;

  public static final String CORRECTIONS = """
      "max_correction_steps": {"type": "integer", "minimum": 0, "description": "How many times an answer that breaks the schema goes back to the model, with the errors, in the same conversation (default 2)."}
      """;

  public static ModelConfig read(StepSpec step, SpecContext ctx, Problems problems, int defaultCorrections, int defaultRestarts) {
    JsonNode c = step.config();
    String continueFrom = step.text("continue");
    String alias = step.text("model");
    String system = step.text("system");
    String prompt = step.text("prompt");
    List<MessageTemplate> messages = null;
    if (c.has("messages")) {
      messages = new ArrayList<>();
      for (JsonNode m : c.get("messages")) {
        messages.add(new MessageTemplate(m.get("role").asText(), m.get("content").asText()));
      }
    }
    if (messages != null && (prompt != null || system != null)) {
      problems.at(step, "", "give either messages, or system and prompt, not both");
    } else if (messages == null && prompt == null) {
      problems.at(step, "prompt", "missing: a step needs a prompt (or messages)");
    }
    if (continueFrom != null) {
      if (ctx.step(continueFrom) == null) {
        problems.at(step, "continue", "continues step `" + continueFrom + "`, which does not exist" + SpecParser.suggest(continueFrom, ctx.stepNames()));
      } else if (continueFrom.equals(step.name())) {
        problems.at(step, "continue", "a step cannot continue itself");
      }
      if (messages != null) {
        problems.at(step, "messages", "a continued step adds a prompt to an existing conversation; use prompt");
      }
      if (system != null) {
        problems.at(step, "system", "a continued step keeps the system message of the conversation it continues");
      }
    }
    ModelSpec model = null;
    String resolved = alias != null ? alias : inherited(step, ctx);
    if (resolved != null) {
      model = ctx.model(resolved, step, "model", problems);
    } else if (continueFrom == null) {
      problems.at(step, "model", "missing: name one of the spec's model aliases " + ctx.spec().models().keySet());
    }
    int corrections = c.has("max_correction_steps") ? c.get("max_correction_steps").asInt() : defaultCorrections;
    int restarts = c.has("max_restarts") ? c.get("max_restarts").asInt() : defaultRestarts;
    List<String> tools = new ArrayList<>();
    int maxToolTurns = Integer.MAX_VALUE;
    for (JsonNode t : c.path("tools")) {
      var set = ctx.spec().tools().get(t.asText());
      if (set == null) {
        String hint = SpecParser.suggest(t.asText(), ctx.spec().tools().sets().keySet());
        problems.at(step, "tools", "names tool set `" + t.asText() + "`, which the spec's `tools` does not declare"
            + (hint.isEmpty() ? " (it declares " + new java.util.TreeSet<>(ctx.spec().tools().sets().keySet()) + ")" : hint));
      } else {
        tools.add(t.asText());
        maxToolTurns = Math.min(maxToolTurns, set.maxToolTurns());
      }
    }
    return new ModelConfig(model, system, prompt, messages, continueFrom, corrections, restarts, Images.read(step), tools,
        tools.isEmpty() ? 0 : maxToolTurns);
  }

  /** A continued step uses the model of the conversation it continues unless it names one. */
  private static String inherited(StepSpec step, SpecContext ctx) {
    Set<String> seen = new LinkedHashSet<>();
    StepSpec current = step;
    while (current != null && current.text("model") == null && current.text("continue") != null && seen.add(current.name())) {
      current = ctx.step(current.text("continue"));
    }
    return current == null ? null : current.text("model");
  }

  /** The templates these keys hold, by key. */
  public Map<String, String> templates() {
    Map<String, String> out = new LinkedHashMap<>();
    if (system != null) {
      out.put("system", system);
    }
    if (prompt != null) {
      out.put("prompt", prompt);
    }
    if (messages != null) {
      for (int i = 0; i < messages.size(); i++) {
        out.put("messages[" + i + "].content", messages.get(i).content());
      }
    }
    out.putAll(Images.templates(images));
    return out;
  }

  /** The fields {@code images} reads without a template, by key. */
  public Map<String, String> names() {
    return Images.names(images);
  }
}
