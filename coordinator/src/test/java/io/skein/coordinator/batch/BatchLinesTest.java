package io.skein.coordinator.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A batch input file checked as OpenAI checks one: every problem with its code, parameter and line. */
class BatchLinesTest {

  private static String line(String id, String model, String extra) {
    return "{\"custom_id\": " + (id == null ? "null" : "\"" + id + "\"") + ", \"method\": \"POST\", \"url\": \"/v1/chat/completions\","
        + " \"body\": {\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]" + extra + "}}";
  }

  private static List<String> codes(BatchLines lines) {
    return lines.problems().stream().map(p -> p.code() + ":" + p.param() + ":" + p.line()).toList();
  }

  @Test
  void aGoodFileHasNoProblemAndOneModel() {
    BatchLines lines = new BatchLines(Batches.CHAT, 10);
    lines.check(1, line("a", "m", ""));
    lines.check(3, line("b", "m", ", \"n\": 1, \"stream\": false"));
    assertEquals(List.of(), lines.problems());
    assertEquals("m", lines.model());
    assertEquals(2, lines.count());
  }

  @Test
  void eachProblemNamesItsLineAndParameter() {
    BatchLines lines = new BatchLines(Batches.CHAT, 10);
    lines.check(1, line("a", "m", ""));
    lines.check(2, "[1, 2]");
    lines.check(3, line("a", "m", ""));
    lines.check(4, line(null, "m", ""));
    lines.check(5, line("e", "other", ""));
    lines.check(6, line("f", "m", "").replace("\"POST\"", "\"GET\""));
    lines.check(7, line("g", "m", ", \"n\": 3"));
    lines.check(8, line("h", "m", ", \"stream\": true"));
    lines.check(9, "{\"custom_id\": \"i\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {\"model\": \"m\"}}");
    lines.check(10, "{\"custom_id\": \"j\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\"}");
    assertEquals(List.of(
        "invalid_json_line:null:2",
        "duplicate_custom_id:custom_id:3",
        "missing_required_parameter:custom_id:4",
        "mismatched_model:body.model:5",
        "invalid_request:method:6",
        "invalid_request:body.n:7",
        "invalid_request:body.stream:8",
        "missing_required_parameter:body.messages:9",
        "missing_required_parameter:body:10"), codes(lines));
    assertTrue(lines.problems().get(1).message().contains("line 1"), "the duplicate names the first: " + lines.problems().get(1));
    assertTrue(lines.problems().get(3).message().contains("'other'"), lines.problems().get(3).message());
  }

  @Test
  void anEmptyFileAndOneTooLargeAreProblemsOfTheWholeFile() {
    assertEquals(List.of("empty_file:null:null"), codes(new BatchLines(Batches.CHAT, 10)));
    BatchLines many = new BatchLines(Batches.CHAT, 2);
    for (int i = 1; i <= 3; i++) {
      many.check(i, line("r" + i, "m", ""));
    }
    assertEquals(List.of("too_many_requests_in_file:null:3"), codes(many));
  }

  @Test
  void atMostAHundredProblemsAreListedAndTheRestCounted() {
    BatchLines lines = new BatchLines(Batches.CHAT, 1000);
    for (int i = 1; i <= 130; i++) {
      lines.check(i, "not json");
    }
    List<BatchLines.Problem> problems = lines.problems();
    assertEquals(BatchLines.MAX_REPORTED + 1, problems.size());
    assertEquals("too_many_errors", problems.get(problems.size() - 1).code());
    assertTrue(problems.get(problems.size() - 1).message().startsWith("30 more"), problems.get(problems.size() - 1).message());
  }

  @Test
  void anEmbeddingsLineNeedsAnInputAndItsEndpoint() {
    BatchLines lines = new BatchLines(Batches.EMBEDDINGS, 10);
    String ok = "{\"custom_id\": \"a\", \"method\": \"POST\", \"url\": \"/v1/embeddings\", \"body\": {\"model\": \"e\", \"input\": \"hi\"}}";
    lines.check(1, ok);
    lines.check(2, ok.replace("\"a\"", "\"b\"").replace("\"hi\"", "[\"x\", \"y\"]"));
    lines.check(3, ok.replace("\"a\"", "\"c\"").replace(", \"input\": \"hi\"", ""));
    lines.check(4, line("d", "e", ""));
    assertEquals(List.of("missing_required_parameter:body.input:3", "mismatched_endpoint:url:4", "missing_required_parameter:body.input:4"),
        codes(lines));
  }
}
