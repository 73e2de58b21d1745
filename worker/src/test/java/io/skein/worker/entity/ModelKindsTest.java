package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.protocol.ChatMessage;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The model kinds: what they send, what they read from answers, and how they ask again. */
class ModelKindsTest {

  private static final String STRUCTURED = """
      name: s
      models: {writer: sim-small, judge: sim-large}
      steps:
        - name: product
          kind: llm-structured
          model: writer
          prompt: "Invent a {{ kind }}."
          schema: {type: object, required: [name, features], properties: {name: {type: string}, features: {type: array, items: {type: string}, minItems: 2}}}
          max_correction_steps: 2
          max_restarts: 1
      """;

  private static final String GOOD = "{\"name\": \"Lamp\", \"features\": [\"bright\", \"small\"]}";

  @Test
  void aStructuredAnswerIsParsedAndItsSchemaSentAsResponseFormat() {
    RecordRun run = new RecordRun(STRUCTURED, "{\"kind\": \"lamp\"}", 0);
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> "<think>hmm</think>```json\n" + GOOD + "\n```"));
    assertEquals("Lamp", run.row().at("/product/name").asText());
    assertEquals(2, run.row().at("/product/features").size());
    assertEquals("object", run.sent.get(0).schema().get("type").asText(), "the call carries the schema");
    var provider = new io.skein.worker.gateway.Provider("p", "http://p/v1", null, "m", 1, java.time.Duration.ofSeconds(1));
    JsonNode body = body(CallRequests.build("j/0", 0, 0, run.sent.get(0), provider, false).body());
    assertEquals("json_schema", body.at("/response_format/type").asText());
    assertEquals("product", body.at("/response_format/json_schema/name").asText());
    assertTrue(body.at("/response_format/json_schema/strict").asBoolean());
    assertEquals(run.sent.get(0).schema(), body.at("/response_format/json_schema/schema"));
    var inPrompt = new io.skein.worker.gateway.Provider("p", "http://p/v1", null, "m", 1, java.time.Duration.ofSeconds(1), 0, 0, true, "http://p/v1");
    JsonNode prompted = body(CallRequests.build("j/0", 0, 0, run.sent.get(0), inPrompt, false).body());
    assertTrue(prompted.path("response_format").isMissingNode(), "a provider configured so gets the schema in the prompt");
    assertTrue(prompted.at("/messages/0/content").asText().contains("conforms to this JSON Schema"), prompted.toString());
  }

  @Test
  void aWrongAnswerGoesBackWithItsErrorsThenTheConversationStartsOver() {
    RecordRun run = new RecordRun(STRUCTURED, "{\"kind\": \"lamp\"}", 0);
    AtomicInteger calls = new AtomicInteger();
    // Three wrong answers (first + 2 corrections), then one more after the restart, then a good one.
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> switch (calls.incrementAndGet()) {
      case 1 -> "not json at all";
      case 2 -> "{\"name\": \"Lamp\"}";
      case 3 -> "{\"name\": \"Lamp\", \"features\": [\"one\"]}";
      case 4 -> "{\"features\": []}";
      default -> GOOD;
    }));
    List<StepPlanner.PlannedCall> sent = run.sentFor("product");
    assertEquals(5, sent.size());
    assertEquals(List.of(0, 1, 2, 3, 4), sent.stream().map(c -> c.id().turn()).toList(), "each attempt its own turn");
    StepPlanner.PlannedCall correction = sent.get(1);
    assertEquals(3, correction.messages().size(), "the bad answer stays in the conversation, the errors follow it");
    assertEquals(ChatMessage.assistant("not json at all"), correction.messages().get(1));
    assertTrue(correction.newMessages().get(0).content().contains("not JSON"), correction.newMessages().toString());
    assertTrue(sent.get(2).newMessages().get(0).content().contains("features"), "the missing property is named: " + sent.get(2));
    assertEquals(1, sent.get(3).messages().size(), "after max_correction_steps the conversation starts over");
    assertEquals(sent.get(0).messages(), sent.get(3).messages());
    assertEquals(3, sent.get(4).messages().size(), "and is corrected again");
    assertEquals("Lamp", run.row().at("/product/name").asText());
  }

  @Test
  void aStepThatNeverAnswersWellFailsTheRecordSayingWhy() {
    RecordRun run = new RecordRun(STRUCTURED, "{\"kind\": \"lamp\"}", 0);
    StepPlanner.Fail fail = assertInstanceOf(StepPlanner.Fail.class, run.run(c -> "{\"name\": 1}"));
    assertEquals("invalid_output", fail.errorType());
    assertEquals("product", fail.step());
    assertTrue(fail.message().contains("after 6 calls"), fail.message());
    assertEquals(6, run.sent.size(), "(1 + 2 corrections) x (1 + 1 restart)");
  }

  @Test
  void aJudgeScoresEachRubricWithAnOptionKey() {
    String spec = """
        name: j
        models: {judge: sim-large}
        steps:
          - name: quality
            kind: llm-judge
            model: judge
            prompt: "Judge this answer: {{ answer }}"
            scores:
              - {name: helpfulness, description: "Does it help?", options: {1: "No", 3: "Somewhat", 5: "Fully"}}
              - {name: tone, options: {warm: "Kind", cold: "Curt"}}
        """;
    RecordRun run = new RecordRun(spec, "{\"answer\": \"Restart it.\"}", 0);
    AtomicInteger calls = new AtomicInteger();
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> calls.incrementAndGet() == 1
        ? "{\"helpfulness\": {\"reasoning\": \"ok\", \"score\": 4}, \"tone\": {\"reasoning\": \"fine\", \"score\": \"warm\"}}"
        : "{\"helpfulness\": {\"reasoning\": \"direct\", \"score\": \"5\"}, \"tone\": {\"reasoning\": \"fine\", \"score\": \"warm\"}}"));
    JsonNode quality = run.row().get("quality");
    assertEquals(5, quality.at("/helpfulness/score").asInt());
    assertTrue(quality.at("/helpfulness/score").isInt(), "numeric option keys are integers: " + quality);
    assertEquals("warm", quality.at("/tone/score").asText());
    assertEquals("direct", quality.at("/helpfulness/reasoning").asText());
    assertEquals(2, run.sent.size(), "4 is no option: corrected once");
    String prompt = run.sent.get(0).messages().get(0).content();
    assertTrue(prompt.startsWith("Judge this answer: Restart it.") && prompt.contains("helpfulness: Does it help?") && prompt.contains("5: Fully"),
        prompt);
    JsonNode allowed = run.sent.get(0).schema().at("/properties/helpfulness/properties/score/enum");
    assertEquals(List.of(1, 3, 5), intList(allowed));
    assertTrue(allowed.get(0).isInt(), "the schema asks for integers: " + allowed);
  }

  @Test
  void textScoresKeepNumericKeysAsTextAsDataDesignerWritesThem() {
    String spec = """
        name: j
        models: {judge: sim-large}
        steps:
          - name: quality
            kind: llm-judge
            model: judge
            text_scores: true
            prompt: "Judge it"
            scores:
              - {name: Accuracy, options: {'1': "Wrong", '3': "Right"}}
              - {name: Grade Fit, options: {'1': "Off", '2': "Fine"}}
        """;
    RecordRun run = new RecordRun(spec, "{}", 0);
    assertInstanceOf(StepPlanner.Finish.class, run.run(c ->
        "{\"Accuracy\": {\"reasoning\": \"ok\", \"score\": 3}, \"Grade Fit\": {\"reasoning\": \"ok\", \"score\": \"2\"}}"));
    JsonNode quality = run.row().get("quality");
    assertEquals("\"3\"", quality.at("/Accuracy/score").toString(), "a number that is an option's key becomes the key: " + quality);
    assertEquals("\"2\"", quality.at("/Grade Fit/score").toString());
    assertEquals(1, run.sent.size(), "no correction for either");
    assertTrue(run.sent.get(0).schema().at("/properties/Accuracy/properties/score/enum/0").isTextual());
  }

  @Test
  void codeIsTakenFromTheFenceOfItsLanguage() {
    String spec = """
        name: c
        models: {writer: sim-small}
        steps:
          - {name: query, kind: llm-code, model: writer, language: sql, prompt: "Write a PostgreSQL query that {{ task }}."}
        """;
    RecordRun run = new RecordRun(spec, "{\"task\": \"counts orders\"}", 0);
    run.run(c -> "Sure:\n```python\nprint(1)\n```\nand\n```sql\nSELECT count(*) FROM orders;\n```\n");
    assertEquals("SELECT count(*) FROM orders;", run.row().get("query").asText());
    assertTrue(run.sent.get(0).messages().get(0).content().contains("```sql"), "the prompt asks for the fence");
    RecordRun bare = new RecordRun(spec, "{\"task\": \"counts orders\"}", 0);
    bare.run(c -> "  SELECT 1;  ");
    assertEquals("SELECT 1;", bare.row().get("query").asText(), "no fence: the whole answer");
  }

  @Test
  void reasoningNeverReachesTheValueAndIsKeptWhenAskedFor() {
    String spec = """
        name: r
        models: {m: sim-small}
        steps:
          - {name: a, model: m, prompt: "Q", extract_reasoning: true}
          - {name: b, model: m, prompt: "Q2 {{ a }}"}
        """;
    RecordRun run = new RecordRun(spec, "{}", 0);
    run.run(c -> "<think>Let me see.</think>\nThe answer.");
    JsonNode row = run.row();
    assertEquals("The answer.", row.get("a").asText());
    assertEquals("Let me see.", row.get("a__reasoning_content").asText());
    assertEquals("The answer.", row.get("b").asText());
    assertNull(row.get("b__reasoning_content"), "only where asked for");
    assertEquals("Q2 The answer.", run.sentFor("b").get(0).messages().get(0).content());
  }

  private static List<Integer> intList(JsonNode array) {
    List<Integer> out = new java.util.ArrayList<>();
    array.forEach(n -> out.add(n.asInt()));
    return out;
  }

  private static JsonNode body(String text) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
