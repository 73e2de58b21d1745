package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The keys every step has (when, n, drop, with_trace), expressions, and the shape of rows. */
class StepOptionsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void expressionsComputeTypedValuesFromOtherValues() {
    String spec = """
        name: e
        models: {m: sim-small}
        steps:
          - {name: n, kind: expression, expr: "{{ base + 6 }}", type: int}
          - {name: hours, kind: expression, expr: "{{ (minutes / 60) | round(2) }}", type: float}
          - {name: big, kind: expression, expr: "{{ base > 3 }}", type: bool}
          - {name: label, kind: expression, expr: "{{ 'good' if n >= 10 else 'poor' }}"}
          - {name: obj, kind: expression, expr: "{{ {'a': base, 'tags': ['x', 'y']} | tojson }}", type: json}
        """;
    RecordRun run = new RecordRun(spec, "{\"base\": 5, \"minutes\": 50}", 0);
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> ""));
    JsonNode row = run.row();
    assertEquals(11, row.get("n").asInt());
    assertTrue(row.get("n").isIntegralNumber());
    assertEquals(0.83, row.get("hours").asDouble(), 1e-9);
    assertEquals(true, row.get("big").asBoolean());
    assertTrue(row.get("big").isBoolean());
    assertEquals("good", row.get("label").asText());
    assertEquals(5, row.at("/obj/a").asInt());
    assertEquals("y", row.at("/obj/tags/1").asText());
  }

  @Test
  void aFalseConditionSkipsTheStepAndThoseThatNeedIt() {
    String spec = """
        name: w
        models: {m: sim-small}
        steps:
          - {name: draft, model: m, prompt: "Write about {{ topic }}", when: "channel != 'phone'"}
          - {name: reply, model: m, prompt: "Polish {{ draft }}"}
          - {name: state, kind: expression, expr: "{{ 'skipped' if draft is none else 'sent' }}", when: "true"}
        """;
    RecordRun phone = new RecordRun(spec, "{\"topic\": \"tea\", \"channel\": \"phone\"}", 0);
    assertInstanceOf(StepPlanner.Finish.class, phone.run(c -> "text"));
    assertEquals(0, phone.sent.size(), "no call for a skipped step, nor for those that read it");
    JsonNode row = phone.row();
    assertTrue(row.has("draft") && row.get("draft").isNull(), row.toString());
    assertTrue(row.get("reply").isNull(), "a step reading a skipped one is skipped too");
    assertEquals("skipped", row.get("state").asText(), "unless it has a condition of its own");
    assertTrue(phone.state.isSkipped("draft") && phone.state.isSkipped("reply"), "skips are persisted");

    RecordRun mail = new RecordRun(spec, "{\"topic\": \"tea\", \"channel\": \"mail\"}", 0);
    mail.run(c -> "text");
    assertEquals(2, mail.sent.size());
    assertEquals("sent", mail.row().get("state").asText());
  }

  @Test
  void aSkippedStepTakesItsSkipValueWhichLaterStepsRead() {
    String spec = """
        name: w
        models: {m: sim-small}
        steps:
          - {name: draft, model: m, prompt: "Write about {{ topic }}", when: "channel != 'phone'", skip_value: "(answered on a call)"}
          - {name: reply, model: m, prompt: "Polish {{ draft }}", skip_value: {kind: none}}
          - {name: state, kind: expression, expr: "{{ draft }}", when: "true"}
        """;
    RecordRun phone = new RecordRun(spec, "{\"topic\": \"tea\", \"channel\": \"phone\"}", 0);
    var decision = phone.run(c -> "text");
    assertInstanceOf(StepPlanner.Finish.class, decision, decision.toString());
    assertEquals(0, phone.sent.size());
    JsonNode row = phone.row();
    assertEquals("(answered on a call)", row.get("draft").asText(), row.toString());
    assertEquals("{\"kind\":\"none\"}", row.get("reply").toString(), "a step skipped with what it reads takes its own skip_value");
    assertEquals("(answered on a call)", row.get("state").asText(), "a later step reads the skip value");
    assertTrue(phone.state.isSkipped("draft"));
  }

  @Test
  void aTemperatureDistributionIsDrawnPerCallAndTheSameForTheSameCall() throws Exception {
    String spec = """
        name: t
        models:
          m: {model: sim-small, temperature: {distribution: uniform, low: 0.5, high: 0.9}, top_p: {distribution: manual, values: [0.8, 0.95], weights: [1, 3]}}
        steps:
          - {name: answers, model: m, prompt: "Answer: {{ question }}", n: 40}
        """;
    RecordRun run = new RecordRun(spec, "{\"question\": \"why?\"}", 2);
    run.run(c -> "a");
    var provider = new io.skein.worker.gateway.Provider("p", "http://p/v1", null, "m", 1, java.time.Duration.ofSeconds(1));
    Set<Double> temperatures = new HashSet<>();
    int high = 0;
    for (StepPlanner.PlannedCall c : run.sentFor("answers")) {
      var body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(CallRequests.build("j/2", 2, 0, c, provider, true).body());
      double t = body.get("temperature").asDouble();
      assertTrue(t >= 0.5 && t <= 0.9, body.toString());
      temperatures.add(t);
      high += body.get("top_p").asDouble() == 0.95 ? 1 : 0;
      assertTrue(List.of(0.8, 0.95).contains(body.get("top_p").asDouble()), body.toString());
      assertEquals(body.toString(), CallRequests.build("j/2", 2, 0, c, provider, true).body(), "a retry sends the same request");
    }
    assertTrue(temperatures.size() > 30, "each call its own temperature: " + temperatures);
    assertTrue(high > 20 && high < 40, "top_p 0.95 three times as often as 0.8: " + high + " of 40");
  }

  @Test
  void nSamplesAreSeparateCallsWithTheirOwnSeedsAndTheValueIsAList() {
    String spec = """
        name: n
        seed: 3
        models: {m: sim-small}
        steps:
          - {name: answers, model: m, prompt: "Answer: {{ question }}", n: 3}
          - {name: best, model: m, prompt: "Pick from {{ answers | join(' / ') }}"}
        """;
    RecordRun run = new RecordRun(spec, "{\"question\": \"why?\"}", 5);
    run.run(c -> "a" + c.id().sample());
    assertEquals(List.of("a0", "a1", "a2"), List.of(run.row().at("/answers/0").asText(), run.row().at("/answers/1").asText(),
        run.row().at("/answers/2").asText()));
    assertEquals("Pick from a0 / a1 / a2", run.sentFor("best").get(0).messages().get(0).content());
    var provider = new io.skein.worker.gateway.Provider("p", "http://p/v1", null, "m", 1, java.time.Duration.ofSeconds(1));
    Set<String> seeds = new HashSet<>();
    Set<String> keys = new HashSet<>();
    for (StepPlanner.PlannedCall c : run.sentFor("answers")) {
      var request = CallRequests.build("j/5", 5, 3, c, provider, true);
      seeds.add(request.body().replaceAll(".*\"seed\":(\\d+).*", "$1"));
      keys.add(request.cacheKey());
    }
    assertEquals(3, seeds.size(), "three seeds");
    assertEquals(3, keys.size(), "never collapsed by the cache");
  }

  @Test
  void afterACrashOnlyTheSamplesThatHadNotAnsweredAreSent() {
    String spec = "name: n\nmodels: {m: sim-small}\nsteps:\n  - {name: answers, model: m, prompt: \"Q\", n: 3}\n";
    RecordRun run = new RecordRun(spec, "{}", 0);
    StepPlanner.Proceed first = assertInstanceOf(StepPlanner.Proceed.class,
        StepPlanner.next(run.plan, run.input, run.state, Set.of(), Map.of(), 5, 0));
    assertEquals(3, first.calls().size());
    run.answer(first.calls().get(1), "second");
    StepPlanner.Proceed after = assertInstanceOf(StepPlanner.Proceed.class,
        StepPlanner.next(run.plan, run.input, run.state, Set.of(), Map.of(), 5, 0));
    assertEquals(List.of(0, 2), after.calls().stream().map(c -> c.id().sample()).toList());
  }

  @Test
  void rowsHoldFieldsAndValuesTracesAndNothingDropped() throws Exception {
    String spec = """
        name: r
        models: {m: sim-small}
        steps:
          - {name: secret, kind: expression, expr: "{{ topic | upper }}", drop: true}
          - {name: draft, model: m, prompt: "Write about {{ secret }}", system: "Be brief.", with_trace: all}
          - {name: edit, continue: draft, prompt: "Shorter.", with_trace: last, drop: false}
        """;
    RecordRun run = new RecordRun(spec, "{\"id\": \"x1\", \"topic\": \"tea\"}", 0);
    run.run(c -> c.id().step().equals("draft") ? "Tea is good." : "Tea.");
    JsonNode row = run.row();
    assertEquals(List.of("id", "topic", "draft", "draft__trace", "edit", "edit__trace"), fieldNames(row));
    assertEquals(JSON.readTree("""
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Write about TEA"},
         {"role": "assistant", "content": "Tea is good."}]"""), row.get("draft__trace"));
    assertEquals(JSON.readTree("[{\"role\": \"assistant\", \"content\": \"Tea.\"}]"), row.get("edit__trace"));
    assertEquals(4, run.sentFor("edit").get(0).messages().size(), "edit continues draft's conversation");
    assertNotEquals(null, run.state.value("secret"), "a dropped value is still computed and kept");
  }

  private static List<String> fieldNames(JsonNode row) {
    List<String> out = new java.util.ArrayList<>();
    row.fieldNames().forEachRemaining(out::add);
    return out;
  }
}
