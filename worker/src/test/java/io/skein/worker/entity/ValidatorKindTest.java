package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Validators check values locally; on_fail keeps the result, fails the record, or sends the target back. */
class ValidatorKindTest {

  private static JsonNode check(String validator, String text) {
    String spec = "name: v\nmodels: {m: sim-small}\nsteps:\n  - {name: text, model: m, prompt: p}\n"
        + "  - {name: check, kind: validator, target: text, " + validator + "}\n";
    RecordRun run = new RecordRun(spec, "{}", 0);
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> text));
    return run.row().get("check");
  }

  private static void valid(String validator, String text) {
    JsonNode v = check(validator, text);
    assertTrue(v.get("valid").asBoolean(), validator + " on " + text + ": " + v);
    assertEquals(0, v.get("errors").size());
  }

  private static String invalid(String validator, String text) {
    JsonNode v = check(validator, text);
    assertFalse(v.get("valid").asBoolean(), validator + " on " + text + ": " + v);
    assertEquals(1, v.get("errors").size(), v.toString());
    return v.get("errors").get(0).asText();
  }

  @Test
  void regexLengthJsonAndJsonSchema() {
    valid("validator: regex, pattern: '^[A-Z]{3}-\\d+$'", "ABC-12");
    assertTrue(invalid("validator: regex, pattern: '^[A-Z]{3}-\\d+$'", "abc-12").contains("does not match"));
    valid("validator: regex, pattern: '^abc', ignore_case: true", "ABCdef");
    valid("validator: length, min: 3, max: 5", "abcd");
    assertTrue(invalid("validator: length, max: 3", "abcd").contains("4 characters, more than 3"));
    assertTrue(invalid("validator: length, min: 3, unit: words", "two words").contains("2 words, fewer than 3"));
    valid("validator: json", "{\"a\": [1, 2]}");
    assertTrue(invalid("validator: json", "{\"a\": ").startsWith("not JSON"));
    valid("validator: json-schema, schema: {type: object, required: [a]}", "{\"a\": 1}");
    assertTrue(invalid("validator: json-schema, schema: {type: object, required: [a]}", "{\"b\": 1}").contains("a"));
  }

  @Test
  void aPatternThatBacktracksForeverIsStoppedWithAReason() {
    long start = System.nanoTime();
    String error = invalid("validator: regex, pattern: '(.*a){12}b'", "a".repeat(32));
    assertTrue(error.contains("took over 100 ms"), error);
    assertTrue(System.nanoTime() - start < 5_000_000_000L, "stopped, not left to run for minutes");
  }

  @Test
  void sqlIsParsedInItsDialect() {
    valid("validator: sql, dialect: postgres", "SELECT id, count(*) FROM orders WHERE total > 10 GROUP BY id;");
    valid("validator: sql", "select 1");
    invalid("validator: sql, dialect: postgres", "SELEC id FORM orders");
    valid("validator: sql, dialect: tsql", "SELECT TOP 5 [name] FROM [dbo].[users]");
  }

  @Test
  void pythonIsParsedAsPython3() {
    valid("validator: python", "def total(items):\n    return sum(i.amount for i in items)\n");
    assertTrue(invalid("validator: python", "def total(items)\n    return sum(items)\n").startsWith("line 1, column 1: "));
    assertTrue(invalid("validator: python", "print 'hi'\n").contains("`print` is a function"));
  }

  @Test
  void dataDesignersShapeNamesTheFieldsItsTemplatesRead() {
    JsonNode good = check("validator: python, shape: data-designer", "def f():\n    return 1\n");
    assertEquals("{\"is_valid\":true,\"python_linter_score\":10.0,\"python_linter_severity\":\"none\",\"python_linter_messages\":[]}",
        good.toString());
    JsonNode bad = check("validator: python, shape: data-designer", "def f()\n    return 1\n");
    assertFalse(bad.get("is_valid").asBoolean());
    assertEquals(0.0, bad.get("python_linter_score").asDouble());
    assertEquals("fatal", bad.get("python_linter_severity").asText());
    assertEquals("fatal", bad.at("/python_linter_messages/0/type").asText());
    assertTrue(bad.at("/python_linter_messages/0/message").asText().startsWith("line 1, column 1: "), bad.toString());
    assertEquals("{\"is_valid\":true,\"error_messages\":\"\"}", check("validator: sql, shape: data-designer", "SELECT 1").toString());
    JsonNode sql = check("validator: sql, dialect: postgres, shape: data-designer", "SELEC id FORM orders");
    assertFalse(sql.get("is_valid").asBoolean());
    assertFalse(sql.get("error_messages").asText().isEmpty(), sql.toString());

    // A template reads the field by Data Designer's name.
    String spec = """
        name: v
        models: {m: sim-small}
        steps:
          - {name: code, kind: llm-code, model: m, language: python, prompt: p}
          - {name: code_check, kind: validator, validator: python, target: code, shape: data-designer}
          - {name: needs_revision, kind: expression, expr: "{{ not code_check.is_valid }}", type: bool}
        """;
    RecordRun run = new RecordRun(spec, "{}", 0);
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> "```python\ndef f(:\n```"));
    assertTrue(run.row().get("needs_revision").asBoolean(), run.row().toString());
  }

  @Test
  void onFailErrorMakesTheRecordAnErrorRowNamingTheValidator() {
    String spec = """
        name: v
        models: {m: sim-small}
        steps:
          - {name: text, model: m, prompt: p}
          - {name: short, kind: validator, validator: length, target: text, max: 3, on_fail: error}
        """;
    RecordRun run = new RecordRun(spec, "{}", 0);
    StepPlanner.Fail fail = assertInstanceOf(StepPlanner.Fail.class, run.run(c -> "far too long"));
    assertEquals("validation_failed", fail.errorType());
    assertEquals("short", fail.step());
    assertTrue(fail.message().contains("validator short (text)") && fail.message().contains("more than 3"), fail.message());
  }

  @Test
  void regenerateSendsTheTargetBackWithTheErrorsInTheSameConversation() {
    String spec = """
        name: sql
        models: {writer: sim-small}
        steps:
          - {name: query, kind: llm-code, model: writer, language: sql, prompt: "Write a query that {{ task }}.", max_restarts: 2}
          - {name: query_check, kind: validator, validator: sql, target: query, dialect: postgres, on_fail: regenerate}
        """;
    RecordRun run = new RecordRun(spec, "{\"task\": \"counts orders\"}", 0);
    AtomicInteger n = new AtomicInteger();
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> n.incrementAndGet() < 3 ? "```sql\nSELEC * FORM orders\n```" : "```sql\nSELECT 1\n```"));
    assertEquals(3, run.sentFor("query").size());
    StepPlanner.PlannedCall second = run.sentFor("query").get(1);
    assertEquals(3, second.messages().size(), "the bad answer stays, the validator's errors follow");
    assertTrue(second.newMessages().get(0).content().contains("query_check"), second.newMessages().toString());
    assertEquals("SELECT 1", run.row().get("query").asText());
    assertTrue(run.row().at("/query_check/valid").asBoolean());

    RecordRun never = new RecordRun(spec, "{\"task\": \"counts orders\"}", 0);
    StepPlanner.Fail fail = assertInstanceOf(StepPlanner.Fail.class, never.run(c -> "```sql\nSELEC\n```"));
    assertEquals("validation_failed", fail.errorType());
    assertEquals(3, never.sent.size(), "1 + max_restarts 2");
  }
}
