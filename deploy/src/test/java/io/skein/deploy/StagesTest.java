package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A staged job on a real node over HTTP: a setup call over a file, its facts exploded into records,
 * two calls per fact, a filter, and a judge stage; exact rows per stage, the stages streaming into
 * each other, error rows counted and not carried on, and cancel reaching every stage.
 */
class StagesTest {

  /** Setup reads the file; `answered` makes one record per fact (those with n 8 or 9 fail); `judged` keeps n >= 4. */
  static final String SPEC = """
      name: stages-test
      models:
        reader: {model: sim-large, temperature: 0}
        writer: {model: sim-small, temperature: 0.7, max_tokens: 40}
        judge: {model: sim-small, temperature: 0}
      files:
        doc: {text: "The Harbor Street Library opened in 1911 with 4,000 books donated by shipwrights."}
      setup:
        - name: facts
          kind: llm-structured
          model: reader
          prompt: "List the facts of: {{ files.doc }}"
          schema:
            type: object
            required: [items]
            properties:
              items:
                type: array
                minItems: 16
                maxItems: 16
                items: {type: object, required: [claim, n], properties: {claim: {type: string}, n: {type: integer, minimum: 0, maximum: 9}}}
      stages:
        - name: answered
          explode: {field: setup.facts.items, as: fact}
          max_in_flight: 2
          steps:
            - {name: question, model: writer, prompt: "Ask about {{ fact.claim }} (one of {{ setup.facts.items | length }})."}
            - {name: answer, model: writer, prompt: "{{ question }}"}
            - {name: digit, kind: expression, expr: "{{ fact.n }}"}
            - {name: gate, kind: validator, validator: regex, target: digit, pattern: "^[0-7]$", on_fail: error}
        - name: judged
          filter: "fact.n >= 4"
          steps:
            - name: verdict
              kind: llm-judge
              model: judge
              prompt: "Q: {{ question }}\\nA: {{ answer }}"
              scores: [{name: grounded, description: "Grounded?", options: {1: "No", 5: "Yes"}}]
      """;

  private static SkeinNode node;
  private static Http http;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("skein-stages-test");
    Path config = dir.resolve("test.conf");
    Files.writeString(config, "skein.simulator.latency = 250ms\n");
    node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true));
    http = new Http(node.httpPort());
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static String body(String yaml) throws Exception {
    ObjectNode body = Http.JSON.createObjectNode();
    body.set("spec", Http.JSON.readTree(Http.JSON.writeValueAsString(new YAMLMapper().readTree(yaml))));
    return body.toString();
  }

  @Test
  void threeStagesEndWithExactlyTheRowsTheirSourcesMake() throws Exception {
    Http.Response created = http.post("/jobs", "application/json", body(SPEC));
    assertEquals(201, created.status(), created.body());
    String id = created.json().get("id").asText();
    JsonNode status = http.awaitState(id, "succeeded", Duration.ofSeconds(120));

    List<JsonNode> setup = http.get("/jobs/" + id + "/stages/setup/results").lines();
    assertEquals(1, setup.size());
    JsonNode facts = setup.get(0).at("/facts/items");
    assertEquals(16, facts.size());
    int failing = 0;
    int kept = 0;
    for (JsonNode f : facts) {
      int n = f.get("n").asInt();
      failing += n >= 8 ? 1 : 0;
      kept += n >= 4 && n <= 7 ? 1 : 0;
    }
    assertTrue(failing > 0 && kept > 0 && kept < 16 - failing, "the simulator's facts exercise every branch: " + facts);

    List<JsonNode> answered = http.get("/jobs/" + id + "/stages/answered/results?annotated=true").lines();
    List<JsonNode> answeredErrors = http.get("/jobs/" + id + "/stages/answered/errors").lines();
    assertEquals(16 - failing, answered.size());
    assertEquals(failing, answeredErrors.size());
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 16; i++) {
      ids.add("0-" + i);
    }
    answered.forEach(r -> assertTrue(ids.remove(r.get("id").asText()), "one row per fact, each once: " + r.get("id")));
    answeredErrors.forEach(r -> assertTrue(ids.remove(r.get("id").asText()), "an error row per failing fact: " + r.get("id")));
    assertTrue(ids.isEmpty(), "every fact ended as a row or an error row: " + ids);
    JsonNode first = answered.get(0);
    assertEquals(0, first.get("parent_id").asInt());
    assertFalse(first.has("setup") || first.has("files"), "setup and files are read by templates, not copied into rows");
    assertTrue(first.at("/calls/0/messages/0/content").asText().contains("(one of 16)"), "records read the setup row");

    List<JsonNode> judged = http.get("/jobs/" + id + "/results?annotated=true").lines();
    assertEquals(kept, judged.size(), "the job's rows are its last stage's: the answered rows the filter kept");
    Map<String, Integer> byId = new HashMap<>();
    judged.forEach(r -> {
      assertTrue(r.at("/fact/n").asInt() >= 4, "the filter dropped n < 4: " + r);
      assertTrue(r.at("/verdict/grounded/score").isNumber(), "the judge stage ran: " + r);
      byId.merge(r.get("id").asText(), 1, Integer::sum);
    });
    assertEquals(kept, byId.size(), "each kept row once");
    assertEquals(http.get("/jobs/" + id + "/results").lines().size(), http.get("/jobs/" + id + "/stages/judged/results").lines().size());

    JsonNode stages = status.get("stages");
    assertEquals(List.of("setup", "answered", "judged"), List.of(stages.get(0).get("name").asText(), stages.get(1).get("name").asText(),
        stages.get(2).get("name").asText()));
    assertEquals(16, stages.get(1).get("total").asInt());
    assertEquals(16 - failing, stages.get(1).get("succeeded").asInt());
    assertEquals(failing, stages.get(1).get("failed").asInt());
    assertEquals(kept, stages.get(2).get("total").asInt());
    assertEquals(16 - failing - kept, stages.get(2).at("/skipped/filtered").asInt());
    assertEquals(failing, stages.get(2).at("/skipped/upstream_errors").asInt(), "error rows make no records downstream, and are counted");
    long calls = 1 + 2L * (16 - failing) + kept;
    assertEquals(calls, status.get("calls").asLong(), "one setup call, two per fact that passed its gate, one per judged row: " + status);
    assertEquals(1 + 16 + kept, status.get("total").asLong());

    Instant lastAnswered = answered.stream().map(r -> Instant.parse(r.at("/timings/finished_at").asText())).max(Instant::compareTo).orElseThrow();
    Instant firstJudged = judged.stream().map(r -> Instant.parse(r.at("/timings/started_at").asText())).min(Instant::compareTo).orElseThrow();
    assertTrue(firstJudged.isBefore(lastAnswered), "the judge stage started while `answered` still ran (streaming, no barrier): "
        + firstJudged + " vs " + lastAnswered);

    JsonNode listed = http.get("/jobs").json().get("jobs");
    listed.forEach(j -> assertFalse(j.get("id").asText().startsWith(id + "."), "stages are not listed as jobs of their own"));

    assertEquals(204, http.delete("/jobs/" + id).status());
    assertEquals(404, http.get("/jobs/" + id + "/stages/answered/results").status(), "a deleted job's stages go with it");
    assertEquals(404, http.get("/jobs/" + id + ".answered").status());
  }

  @Test
  void aPreviewOfAStagedSpecSaysItRunsAsAJob() throws Exception {
    Http.Response r = http.post("/jobs/preview", "application/json", body(SPEC));
    assertEquals(400, r.status(), r.body());
    assertTrue(r.body().contains("previews take a spec of one stage"), r.body());
  }

  @Test
  void cancellingAStagedJobCancelsEveryStage() throws Exception {
    // No answers from the cache (another test ran this spec), one record at a time: the cancel comes mid-stage.
    String slow = SPEC.replace("max_in_flight: 2", "max_in_flight: 1").replace("name: stages-test", "name: stages-cancel\ncache: false");
    String id = http.post("/jobs", "application/json", body(slow)).json().get("id").asText();
    http.awaitStatus(id, "answered running", s -> s.at("/stages/1/succeeded").asInt() + s.at("/stages/1/failed").asInt() >= 1,
        Duration.ofSeconds(60));
    Http.Response cancelled = http.post("/jobs/" + id + "/cancel", "application/json", "");
    assertEquals(200, cancelled.status(), cancelled.body());
    JsonNode status = http.awaitState(id, "cancelled", Duration.ofSeconds(30));
    for (JsonNode stage : status.get("stages")) {
      assertTrue(Set.of("cancelled", "succeeded").contains(stage.get("state").asText()), "every stage ended: " + status);
    }
    assertEquals("cancelled", status.at("/stages/1/state").asText());
  }

  @Test
  void aStageThatReadsWhatItsSourceLacksIsRefusedAtSubmission() throws Exception {
    Http.Response r = http.post("/jobs", "application/json", body(SPEC.replace("filter: \"fact.n >= 4\"", "filter: \"verdikt >= 4\"")));
    assertEquals(400, r.status(), r.body());
    assertTrue(r.body().contains("stages[1] (judged).filter"), r.body());
    assertTrue(r.body().contains("unknown name `verdikt`"), r.body());
  }

  @Test
  void aRowTheFilterCannotBeEvaluatedForEndsAsAnErrorRowOfTheStage() throws Exception {
    // range() refuses more than 1,000 numbers: for n >= 4 the filter fails, for n < 4 it is false.
    String spec = SPEC.replace("filter: \"fact.n >= 4\"", "filter: \"range(fact.n * 300) | length >= 1200\"")
        .replace("name: stages-test", "name: stages-filter-error\ncache: false");
    String id = http.post("/jobs", "application/json", body(spec)).json().get("id").asText();
    JsonNode status = http.awaitState(id, "failed", Duration.ofSeconds(120));
    assertEquals("failed", status.at("/stages/2/state").asText(), "every record of the judged stage failed: " + status);
    int kept = 0;
    int failing = 0;
    for (JsonNode f : http.get("/jobs/" + id + "/stages/setup/results").lines().get(0).at("/facts/items")) {
      failing += f.get("n").asInt() >= 8 ? 1 : 0;
      kept += f.get("n").asInt() >= 4 && f.get("n").asInt() <= 7 ? 1 : 0;
    }
    List<JsonNode> errors = http.get("/jobs/" + id + "/stages/judged/errors").lines();
    assertEquals(kept, errors.size(), "one error row per row the filter could not judge: " + errors);
    for (JsonNode e : errors) {
      assertTrue(e.get("id").asText().startsWith("0-") && e.at("/input/fact/n").asInt() >= 4, "the row keeps its id and input: " + e);
      assertTrue(e.at("/error/message").asText().contains("filter `range(fact.n * 300) | length >= 1200` could not be evaluated"), e.toString());
    }
    assertEquals(List.of(), http.get("/jobs/" + id + "/results").lines());
    assertEquals(16 - failing - kept, status.at("/stages/2/skipped/filtered").asInt(), "rows it judged false are filtered: " + status);
    for (String job : List.of(id, id + ".judged")) {
      Http.Response retry = http.post("/jobs/" + job + "/retry-failed", "application/json", "");
      assertEquals(409, retry.status(), retry.body());
      assertTrue(retry.body().contains("stage"), "a staged job's failed records are not retried, and it says so: " + retry.body());
    }
  }
}
