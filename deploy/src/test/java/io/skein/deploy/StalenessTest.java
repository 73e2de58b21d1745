package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code skein status SPEC} after real runs (separate JVMs, the built-in simulator): partial after a
 * {@code --limit} run, current after a full one, stale naming a changed file or a changed model; and
 * a rerun of the stale spec answers every call whose request did not change from the cache.
 */
class StalenessTest {

  private static final String SPEC = """
      name: stale-test
      models:
        writer: {model: sim-small, max_tokens: 30}
        judge: {model: sim-small, temperature: 0}
      files:
        notes: notes.md
      input:
        records: [{id: a, subject: sea}, {id: b, subject: snow}, {id: c, subject: rain}]
      stages:
        - name: topics
          steps:
            - name: ideas
              kind: llm-structured
              model: writer
              prompt: "Two topics about {{ subject }}. Notes: {{ files.notes }}"
              schema: {type: object, required: [items], properties: {items: {type: array, minItems: 2, maxItems: 2, items: {type: string}}}}
        - name: poems
          explode: {field: ideas.items, as: topic}
          steps:
            - {name: poem, model: writer, prompt: "A poem about {{ topic }}"}
            - {name: rating, model: judge, prompt: "Rate: {{ poem }}"}
      """;

  @TempDir
  Path dir;

  private record Result(int exit, String output) {}

  private Result skein(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--data-dir", dir.resolve("data").toString()));
    try (SkeinProcess p = SkeinProcess.start(dir.resolve(args[0] + System.nanoTime() + ".log"), Map.of(), all.toArray(String[]::new))) {
      int exit = p.awaitExit(Duration.ofMinutes(2));
      return new Result(exit, p.output());
    }
  }

  private Result run(Path spec, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("run", spec.toString(), "--output", dir.resolve("out.jsonl").toString(), "--annotated", "-q"));
    args.addAll(List.of(more));
    Result r = skein(args.toArray(String[]::new));
    assertEquals(0, r.exit(), r.output());
    return r;
  }

  @Test
  void statusSaysPartialCurrentAndStaleAndARerunReusesUnchangedCalls() throws Exception {
    Path spec = dir.resolve("stale.yaml");
    Files.writeString(spec, SPEC);
    Files.writeString(dir.resolve("notes.md"), "Keep it short.");

    Result never = skein("status", spec.toString());
    assertEquals(1, never.exit());
    assertTrue(never.output().contains("stale-test: never run"), never.output());

    run(spec, "--limit", "2");
    Result partial = skein("status", spec.toString());
    assertEquals(1, partial.exit(), partial.output());
    assertTrue(partial.output().contains("partial") && partial.output().contains("--limit 2"), partial.output());

    run(spec);
    Result current = skein("status", spec.toString());
    assertEquals(0, current.exit(), current.output());
    assertTrue(current.output().contains("stale-test: current"), current.output());

    Files.writeString(dir.resolve("notes.md"), "Keep it long.");
    Result file = skein("status", spec.toString());
    assertEquals(1, file.exit(), file.output());
    assertTrue(file.output().contains("stale") && file.output().contains("file `notes` changed"), file.output());
    assertFalse(file.output().contains("model `"), "only the file changed: " + file.output());
    Files.writeString(dir.resolve("notes.md"), "Keep it short.");
    assertEquals(0, skein("status", spec.toString()).exit(), "back to the bytes it ran with: current again");

    Files.writeString(spec, SPEC.replace("judge: {model: sim-small", "judge: {model: sim-large"));
    Result model = skein("status", spec.toString());
    assertEquals(1, model.exit(), model.output());
    assertTrue(model.output().contains("model `judge`: sim-small -> sim-large"), model.output());

    run(spec);
    assertEquals(0, skein("status", spec.toString()).exit(), "the rerun is current");
    List<JsonNode> poems = lines(dir.resolve("out.jsonl"));
    assertEquals(6, poems.size());
    for (JsonNode row : poems) {
      for (JsonNode call : row.get("calls")) {
        boolean cached = call.path("cached").asBoolean(false);
        if (call.get("step").asText().equals("rating")) {
          assertFalse(cached, "the judge's model changed: its calls are new: " + call);
          assertEquals("sim-large", call.get("model").asText());
        } else {
          assertTrue(cached, "an unchanged request is answered from the cache: " + call);
        }
      }
      assertEquals("poems", row.at("/provenance/stage").asText(), "annotated rows carry their stage: " + row);
      assertTrue(row.at("/provenance/spec_fingerprint").asText().matches("[0-9a-f]{64}"), row.toString());
      assertTrue(row.at("/provenance/job_finished_at").isTextual(), row.toString());
      assertTrue(row.get("parent_id").isTextual(), row.toString());
    }
    for (JsonNode topic : lines(dir.resolve("out.topics.jsonl"))) {
      assertTrue(topic.at("/calls/0/cached").asBoolean(false), "the first stage was not repeated: " + topic);
    }
  }

  private static List<JsonNode> lines(Path file) throws Exception {
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      rows.add(Http.JSON.readTree(line));
    }
    return rows;
  }
}
