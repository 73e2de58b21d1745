package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Json;
import io.skein.worker.step.JsonSchemas;
import io.skein.worker.step.ModelConfig;
import io.skein.worker.step.ModelStep;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepLogic;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code kind: llm-judge}: a model scores an answer on named rubrics. The rubric follows the prompt;
 * the answer must be {@code {score_name: {reasoning, score}}} with each score one of its options'
 * keys (an integer where the keys are numbers, unless {@code text_scores}, as Data Designer writes
 * them), sent and checked as a JSON Schema, with the
 * correction and restart loop of {@code llm-structured}.
 */
public final class JudgeKind implements StepKind {

  @Override
  public String name() {
    return "llm-judge";
  }

  @Override
  public String description() {
    return "Have a model score an answer on named rubrics; the value is {score_name: {score, reasoning}}.";
  }

  @Override
  public ObjectNode schema() {
    return Json.object("{\"required\": [\"scores\"], \"properties\": {" + ModelConfig.PROPERTIES + ", " + ModelConfig.CORRECTIONS + """
        , "text_scores": {"type": "boolean", "description": "Scores are the options' keys as text even where they are numbers ('3', not 3), as Data Designer writes them."}
        , "scores": {"type": "array", "minItems": 1, "description": "The rubrics.",
            "items": {"type": "object", "required": ["name", "options"], "additionalProperties": false, "properties": {
              "name": {"type": "string", "description": "The score's name (a key of the value)."},
              "description": {"type": "string", "description": "What it measures."},
              "options": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"},
                "description": "Score -> what it means, e.g. {1: No, 3: Somewhat, 5: Fully}."}}}}
        }}""");
  }

  @Override
  public StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    ModelConfig config = ModelConfig.read(step, spec, problems, 2, 1);
    List<Score> scores = new ArrayList<>();
    Set<String> names = new HashSet<>();
    JsonNode list = step.config().get("scores");
    boolean text = step.config().path("text_scores").asBoolean(false);
    for (int i = 0; i < list.size(); i++) {
      JsonNode s = list.get(i);
      if (!names.add(s.get("name").asText())) {
        problems.at(step, "scores[" + i + "].name", "score `" + s.get("name").asText() + "` is named twice");
      }
      scores.add(new Score(s.get("name").asText(), s.path("description").asText(""), Json.MAPPER.convertValue(s.get("options"),
          new com.fasterxml.jackson.core.type.TypeReference<java.util.LinkedHashMap<String, String>>() {}), text));
    }
    return new Logic(step, config, scores);
  }

  /** {@code text}: the keys stay text even where they are numbers. */
  record Score(String name, String description, Map<String, String> options, boolean text) {
    boolean numeric() {
      return !text && options.keySet().stream().allMatch(k -> k.matches("-?\\d+"));
    }

    JsonNode key(String k) {
      return numeric() ? Json.NODES.numberNode(Integer.parseInt(k)) : Json.NODES.textNode(k);
    }
  }

  static final class Logic extends ModelStep {
    private final List<Score> scores;
    private final ObjectNode schema;
    private final JsonSchema compiled;

    Logic(StepSpec step, ModelConfig config, List<Score> scores) {
      super(step, config);
      this.scores = scores;
      this.schema = schemaOf(scores);
      this.compiled = JsonSchemas.compile(schema);
    }

    private static ObjectNode schemaOf(List<Score> scores) {
      ObjectNode schema = Json.MAPPER.createObjectNode().put("type", "object").put("additionalProperties", false);
      ObjectNode properties = schema.putObject("properties");
      ArrayNode required = schema.putArray("required");
      for (Score s : scores) {
        ObjectNode p = properties.putObject(s.name()).put("type", "object").put("additionalProperties", false);
        ObjectNode sp = p.putObject("properties");
        sp.putObject("reasoning").put("type", "string");
        ArrayNode allowed = sp.putObject("score").putArray("enum");
        s.options().keySet().forEach(k -> allowed.add(s.key(k)));
        p.putArray("required").add("reasoning").add("score");
        required.add(s.name());
      }
      return schema;
    }

    @Override
    protected ObjectNode answerSchema() {
      return schema;
    }

    @Override
    protected String instructions() {
      StringBuilder sb = new StringBuilder("Score it on each of these criteria, giving your reasoning first:");
      for (Score s : scores) {
        sb.append("\n\n").append(s.name()).append(s.description().isEmpty() ? "" : ": " + s.description());
        s.options().forEach((k, v) -> sb.append("\n  ").append(k).append(": ").append(v));
      }
      sb.append("\n\nAnswer with JSON: {");
      for (int i = 0; i < scores.size(); i++) {
        sb.append(i == 0 ? "" : ", ").append('"').append(scores.get(i).name()).append("\": {\"reasoning\": \"...\", \"score\": ...}");
      }
      return sb.append('}').toString();
    }

    @Override
    protected Read read(String answer) {
      return json(answer, compiled, value -> {
        for (Score s : scores) {
          JsonNode score = value.path(s.name()).path("score");
          // "5" for 5: what models often write; the option is meant.
          if (s.numeric() && score.isTextual() && s.options().containsKey(score.asText().strip())) {
            ((ObjectNode) value.get(s.name())).set("score", s.key(score.asText().strip()));
          } else if (!s.numeric() && score.isIntegralNumber() && s.options().containsKey(score.asText())) {
            ((ObjectNode) value.get(s.name())).set("score", s.key(score.asText()));
          }
        }
      });
    }

    @Override
    protected String correction(List<String> errors) {
      return "Your answer does not have the required shape:\n- " + String.join("\n- ", errors)
          + "\nAnswer again with only the JSON, one entry per criterion.";
    }
  }
}
