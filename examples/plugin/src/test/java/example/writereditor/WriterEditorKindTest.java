package example.writereditor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.testkit.SkeinTestKit;
import io.skein.testkit.SkeinTestKit.JobRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The writer-editor kind in a Skein node, against the model simulator: what a plugin's own tests look like. */
class WriterEditorKindTest {

  static SkeinTestKit skein;

  @BeforeAll
  static void start() throws Exception {
    skein = SkeinTestKit.start();
  }

  @AfterAll
  static void stop() throws Exception {
    skein.close();
  }

  @Test
  void eachRecordIsDraftedCritiquedAndRevisedAndTheValueIsTheLastDraft() throws Exception {
    JobRun run = skein.run(Files.readString(Path.of("story.yaml")));
    assertEquals("succeeded", run.state(), run.toString());
    assertEquals(3, run.rows().size(), run.toString());
    // Two rounds: draft, critique, revision, critique, revision; then the title step.
    assertEquals(3 * (5 + 1), run.calls(), run.toString());
    for (ObjectNode row : run.rows()) {
      JsonNode trace = row.get("story__trace");
      assertEquals(6, trace.size(), "the writer's side only: three asks and three drafts: " + trace);
      assertTrue(trace.get(0).get("content").asText().startsWith("Write a very short story about " + row.get("topic").asText()),
          trace.toString());
      assertTrue(trace.get(2).get("content").asText().startsWith("An editor read your draft and says:"), trace.toString());
      assertEquals(trace.get(5).get("content").asText(), row.get("story").asText(), "the value is the last draft");
      assertFalse(row.get("title").asText().isBlank(), row.toString());
    }
  }

  @Test
  void callsThatFailAreRetriedThroughTheGatewayAndEveryRecordStillEnds() throws Exception {
    try (SkeinTestKit flaky = SkeinTestKit.start(Map.of("skein.simulator.error-rate", 0.3, "skein.simulator.seed", 7))) {
      String spec = """
          name: flaky
          models: {m: {model: sim-small, max_tokens: 60}}
          retry: {max_attempts: 20, initial_backoff: 10ms, max_backoff: 50ms}
          steps:
            - {name: story, kind: writer_editor, writer: m, prompt: "A story about {{ topic }}"}
          """;
      JobRun run = flaky.run(spec, List.of(Map.of("topic", "rain"), Map.of("topic", "salt"), Map.of("topic", "wind"), Map.of("topic", "ash")));
      assertEquals(4, run.rows().size(), run.toString());
      run.rows().forEach(row -> assertFalse(row.get("story").asText().isBlank(), row.toString()));
      assertTrue(flaky.simulatorRequests() > 4 * 3, "one round is three calls a record; some attempts failed and were retried: "
          + flaky.simulatorRequests());
    }
  }

  @Test
  void aWrongStepSaysWhichKeyAndWhy() {
    String spec = """
        name: wrong
        models: {m: {model: sim-small}}
        input: {num_records: 1}
        steps:
          - {name: story, kind: writer_editor, writer: w, editor: m, prompt: "A story", rounds: 9}
          - {name: other, kind: writer_editor, writer: m, prompt: "A story", round: 2}
          - {name: third, kind: writer_editor, writer: m, rounds: "two"}
        """;
    List<String> problems = skein.problems(spec);
    String all = String.join("\n", problems);
    assertTrue(all.contains("steps[0] (story).writer: unknown model alias `w`; did you mean `m`?"), all);
    assertTrue(all.contains("steps[0] (story).rounds: must be 1 to 5, not 9"), all);
    assertTrue(all.contains("steps[1] (other).round: unknown field for a writer_editor step; did you mean `rounds`?"), all);
    assertTrue(all.contains("steps[2] (third).prompt: missing"), all);
    assertTrue(all.contains("steps[2] (third).rounds"), all);
  }
}
