package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@code dedupe:} with {@code target:} over HTTP: of records whose questions repeat, each question
 * is kept once; every other record is an error row of type {@code duplicate} naming the record it
 * repeats, counted in the status, and replaced by another record until the target is met.
 */
class DedupeTest {

  @Test
  void repeatedQuestionsAreRejectedAndReplacedUntilTheTargetIsMet() throws Exception {
    try (SkeinNode node = TestNodes.withSimulatorLatency("dedupe-test", "5ms")) {
      Http http = new Http(node.httpPort());
      String spec = """
          name: distinct
          seed: 5
          target: 6
          max_records: 200
          max_in_flight: 8
          dedupe: {field: question, method: exact}
          models: {m: {model: sim-small, max_tokens: 20}}
          steps:
            - {name: topic, kind: sampler, sampler: category, values: [tides, bread, bridges, gardens, trains, libraries]}
            - {name: question, kind: expression, expr: "What is there to know about {{ topic }}?"}
            - {name: answer, model: m, prompt: "{{ question }}"}
          """;
      Http.Response created = http.post("/jobs", "application/yaml", spec);
      assertEquals(201, created.status(), created.body());
      String id = created.json().get("id").asText();
      JsonNode done = http.awaitState(id, "succeeded", Duration.ofMinutes(2));

      List<JsonNode> rows = http.get("/jobs/" + id + "/results").lines();
      Set<String> questions = new TreeSet<>();
      rows.forEach(r -> questions.add(r.get("question").asText()));
      assertEquals(6, rows.size(), done.toString());
      assertEquals(6, questions.size(), "each question once: " + questions);
      List<JsonNode> errors = http.get("/jobs/" + id + "/errors").lines();
      assertTrue(!errors.isEmpty(), "six topics drawn at random repeat before all six are seen");
      for (JsonNode e : errors) {
        assertEquals("duplicate", e.at("/error/type").asText(), e.toString());
        assertTrue(e.at("/error/message").asText().matches("`question` is a duplicate of record \\d+'s \\(similarity 1.00\\)"), e.toString());
      }
      assertEquals(errors.size(), done.at("/dedupe/duplicates").asInt(), done.toString());
      assertEquals(errors.size(), done.at("/target/failed").asInt(), "a duplicate is a failed record, replaced: " + done);

      Http.Response bad = http.post("/jobs", "application/yaml", spec.replace("field: question", "field: questoin"));
      assertEquals(400, bad.status(), bad.body());
      assertTrue(bad.body().contains("dedupe.field") && bad.body().contains("did you mean `question`?"), bad.body());
    }
  }
}
