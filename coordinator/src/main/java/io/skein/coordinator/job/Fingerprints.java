package io.skein.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.Stages;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * What a job was made of, part by part, as the in-house framework tracks it: the whole spec, its
 * input, each file, each model alias's model name, each stage's own steps (with what feeds it),
 * the rest of the settings, and the {@code --limit} it ran with. A job keeps these; comparing them
 * with a spec's today says whether the job is {@code current}, {@code stale} (and what changed)
 * or {@code partial}.
 */
public record Fingerprints(String spec, String input, Map<String, String> files, Map<String, String> models,
    Map<String, String> stages, String settings, Long limit) {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> STAGE_KEYS = List.of("steps", "output", "processors", "from", "explode", "filter", "max_in_flight", "retry");

  /** The parts of a spec tree (files read in), with {@code input} the fingerprint of its records and the limit it runs with. */
  public static Fingerprints of(JsonNode tree, String input, Long limit) {
    Map<String, String> files = new LinkedHashMap<>();
    tree.path("files").fields().forEachRemaining(e -> files.put(e.getKey(), sha(e.getValue().path("text").asText(e.getValue().asText()))));
    Map<String, String> models = new LinkedHashMap<>();
    tree.path("models").fields().forEachRemaining(e -> models.put(e.getKey(),
        e.getValue().isTextual() ? e.getValue().asText() : e.getValue().path("model").asText()));
    Map<String, String> stages = new LinkedHashMap<>();
    if (tree.has(Stages.SETUP)) {
      stages.put(Stages.SETUP, sha(SpecParser.toJson(tree.get(Stages.SETUP))));
    }
    if (tree.has("stages")) {
      for (JsonNode stage : tree.get("stages")) {
        stages.put(stage.path("name").asText(), sha(SpecParser.toJson(only(stage, STAGE_KEYS))));
      }
    } else {
      stages.put(tree.has(Stages.SETUP) ? Stages.MAIN : "steps", sha(SpecParser.toJson(only(tree, STAGE_KEYS))));
    }
    ObjectNode settings = tree.deepCopy();
    settings.remove(List.of("files", "models", "setup", "stages", "input", "steps", "output", "processors"));
    ObjectNode models2 = JSON.createObjectNode();
    tree.path("models").fields().forEachRemaining(e -> {
      if (e.getValue().isObject()) {
        ObjectNode params = e.getValue().deepCopy();
        params.remove("model");
        models2.set(e.getKey(), params);
      }
    });
    settings.set("model_params", models2);
    JsonNode inputSettings = tree.path("input").deepCopy();
    if (inputSettings instanceof ObjectNode in) {
      in.remove(List.of("file", "records", "limit"));
      settings.set("input", in);
    }
    return new Fingerprints(sha(SpecParser.toJson(tree)), input, files, models, stages, sha(SpecParser.toJson(settings)), limit);
  }

  /** What differs from {@code earlier}, as a person would say it; empty when nothing that makes rows has changed. */
  public List<String> changesSince(Fingerprints earlier) {
    List<String> out = new ArrayList<>();
    if (!Objects.equals(input, earlier.input)) {
      out.add("the input changed");
    }
    diff("file", earlier.files, files, (k, a, b) -> "file `" + k + "` changed", out);
    diff("model", earlier.models, models, (k, a, b) -> "model `" + k + "`: " + a + " -> " + b, out);
    diff("stage", earlier.stages, stages, (k, a, b) -> (k.equals("steps") ? "the steps" : "stage `" + k + "`") + " changed", out);
    if (!Objects.equals(settings, earlier.settings)) {
      out.add("the settings changed (seed, sampling parameters, retry, input sampling or the like)");
    }
    return out;
  }

  private interface Change {
    String say(String key, String before, String after);
  }

  private static void diff(String what, Map<String, String> before, Map<String, String> after, Change change, List<String> out) {
    TreeSet<String> keys = new TreeSet<>(before.keySet());
    keys.addAll(after.keySet());
    for (String k : keys) {
      String a = before.get(k);
      String b = after.get(k);
      if (a == null) {
        out.add(what + " `" + k + "` was added");
      } else if (b == null) {
        out.add(what + " `" + k + "` was removed");
      } else if (!a.equals(b)) {
        out.add(change.say(k, a, b));
      }
    }
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static Fingerprints parse(String json) {
    try {
      return JSON.readValue(json, Fingerprints.class);
    } catch (Exception e) {
      throw new IllegalStateException("corrupt fingerprints: " + json, e);
    }
  }

  private static ObjectNode only(JsonNode node, List<String> keys) {
    ObjectNode out = JSON.createObjectNode();
    keys.forEach(k -> {
      if (node.has(k)) {
        out.set(k, node.get(k));
      }
    });
    return out;
  }

  public static String sha(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
