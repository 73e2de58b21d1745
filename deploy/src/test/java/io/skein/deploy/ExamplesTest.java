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
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The examples under {@code examples/} run as a user runs them ({@code skein run}, the embedded
 * simulator), with a share of broken first answers so their correction and regeneration loops
 * run and with reasoning in every answer, and their rows have the shape each example promises.
 */
class ExamplesTest {

  @TempDir
  Path dir;

  private List<JsonNode> run(String example, String... more) throws Exception {
    Path config = dir.resolve("faults.conf");
    Files.writeString(config, "skein.simulator { latency = 5ms, bad-json-rate = 0.4, bad-code-rate = 0.4, reasoning = on }\n");
    Path out = dir.resolve(example + ".jsonl");
    List<String> args = new ArrayList<>(List.of("run", "../examples/" + example + ".yaml",
        "--output", out.toString(), "--data-dir", dir.resolve("data").toString(), "--config", config.toString(), "--annotated"));
    args.addAll(List.of(more));
    try (SkeinProcess p = SkeinProcess.start(dir.resolve(example + ".log"), Map.of(), args.toArray(String[]::new))) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(2)), p.output());
    }
    assertFalse(Files.exists(RunCommand.errorsBeside(out)) && Files.size(RunCommand.errorsBeside(out)) > 0,
        "no error rows: " + (Files.exists(RunCommand.errorsBeside(out)) ? Files.readString(RunCommand.errorsBeside(out)) : ""));
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      rows.add(Http.JSON.readTree(line));
    }
    return rows;
  }

  private static long calls(JsonNode row, String step) {
    long n = 0;
    for (JsonNode c : row.get("calls")) {
      n += c.get("step").asText().equals(step) ? 1 : 0;
    }
    return n;
  }

  @Test
  void productQa() throws Exception {
    Path chat = dir.resolve("chat.jsonl");
    List<JsonNode> rows = run("product-qa", "--dataset", "chat=" + chat);
    assertEquals(10, rows.size());
    List<String> chatLines = Files.readAllLines(chat);
    assertEquals(10, chatLines.size(), "one chat row per record");
    for (int i = 0; i < 10; i++) {
      JsonNode c = Http.JSON.readTree(chatLines.get(i));
      assertEquals(rows.get(i).get("question").asText(), c.at("/messages/0/content").asText());
      assertEquals(rows.get(i).get("answer").asText(), c.at("/messages/1/content").asText());
      assertEquals(rows.get(i).at("/quality/helpfulness/score"), c.get("helpfulness"), "a single {{ value }} keeps its type");
    }
    long corrected = 0;
    for (JsonNode row : rows) {
      assertFalse(row.has("customer"), "customer is dropped");
      assertTrue(Set.of("electronics", "books", "garden").contains(row.get("category").asText()));
      int features = row.at("/product/features").size();
      assertTrue(row.at("/product/name").isTextual() && features >= 2 && features <= 5, row.get("product").toString());
      int helpfulness = row.at("/quality/helpfulness/score").asInt();
      assertTrue(Set.of(1, 3, 5).contains(helpfulness), row.get("quality").toString());
      assertEquals(helpfulness >= 4 ? "good" : "poor", row.get("label").asText());
      assertEquals(helpfulness < 3, !row.get("followup").isNull(), "followup only when unhelpful: " + row);
      assertFalse(row.has("style"), "dropped by the processor");
      assertEquals(1, row.get("answer__trace").size());
      assertTrue(row.get("answer__reasoning_content").asText().startsWith("The request is:"), row.toString());
      assertFalse(row.get("answer").asText().contains("<think>"), "reasoning never reaches a value");
      corrected += calls(row, "product") > 1 ? 1 : 0;
    }
    assertTrue(corrected > 0, "some products were corrected");
  }

  @Test
  void factExtraction() throws Exception {
    List<JsonNode> judged = run("fact-extraction");
    Path out = dir.resolve("fact-extraction.jsonl");
    List<JsonNode> setup = lines(RunCommand.beside(out, ".setup.jsonl"));
    List<JsonNode> answered = lines(RunCommand.beside(out, ".answered.jsonl"));
    assertEquals(1, setup.size(), "the setup call ran once");
    assertEquals(8, setup.get(0).at("/facts/items").size());
    assertEquals(8, answered.size(), "one record per fact");
    long kept = answered.stream().filter(r -> r.get("answer").asText().length() >= 40).count();
    assertEquals(kept, judged.size(), "the judge stage ran on the answers the filter kept");
    for (JsonNode row : judged) {
      assertTrue(row.get("id").asText().matches("0-[0-7]"), row.get("id").asText());
      assertEquals("0", row.get("parent").asText(), "parent_id names the setup row");
      assertTrue(Set.of("1", "3", "5").contains(row.get("grounded").asText()), row.toString());
      assertTrue(row.at("/calls/0/messages/0/content").asText().startsWith("Fact: "), "annotated rows carry their calls");
    }
  }

  @Test
  void topicsPoems() throws Exception {
    List<JsonNode> poems = run("topics-poems");
    Path out = dir.resolve("topics-poems.jsonl");
    List<JsonNode> topics = lines(RunCommand.beside(out, ".topics.jsonl"));
    assertEquals(4, topics.size());
    assertEquals(20, poems.size(), "five poems per subject");
    for (int i = 0; i < 20; i++) {
      JsonNode poem = poems.get(i);
      String subject = List.of("sea", "city", "garden", "winter").get(i / 5);
      assertEquals(subject + "-" + (i % 5), poem.get("id").asText(), "children are numbered in the order of their parents");
      JsonNode parent = topics.get(i / 5);
      assertEquals(parent.at("/ideas/items/" + (i % 5)).asText(), poem.get("topic").asText());
      assertEquals(2, poem.get("messages").size());
    }
  }

  private static List<JsonNode> lines(Path file) throws Exception {
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      rows.add(Http.JSON.readTree(line));
    }
    return rows;
  }

  @Test
  void textToSql() throws Exception {
    List<JsonNode> rows = run("text-to-sql");
    assertEquals(8, rows.size());
    long regenerated = 0;
    for (JsonNode row : rows) {
      String sql = row.at("/messages/2/content").asText();
      assertTrue(sql.startsWith("SELECT ") && sql.contains(" FROM "), sql);
      assertTrue(row.get("explanation").asText().length() > 0);
      regenerated += calls(row, "query") > 1 ? 1 : 0;
    }
    assertTrue(regenerated > 0, "some queries failed the validator and were written again");
  }

  @Test
  void pythonFunctions() throws Exception {
    List<JsonNode> rows = run("python-functions");
    assertEquals(8, rows.size());
    long regenerated = 0;
    for (JsonNode row : rows) {
      String code = row.at("/messages/2/content").asText();
      assertTrue(code.startsWith("def ") && code.contains("return "), code);
      assertTrue(row.get("valid").asBoolean(), "only code that parses reaches a row: " + row);
      assertTrue(Set.of(1, 2, 3).contains(row.get("correctness").asInt()), row.toString());
      regenerated += calls(row, "code") > 1 ? 1 : 0;
    }
    assertTrue(regenerated > 0, "some functions did not parse and were written again");
  }

  @Test
  void multiTurnChat() throws Exception {
    List<JsonNode> rows = run("multi-turn-chat");
    assertEquals(6, rows.size());
    for (JsonNode row : rows) {
      JsonNode messages = row.get("messages");
      assertEquals(9, messages.size(), "a system message and four turns: " + messages);
      assertEquals("system", messages.get(0).get("role").asText());
      for (int i = 1; i < 9; i++) {
        assertEquals(i % 2 == 1 ? "user" : "assistant", messages.get(i).get("role").asText());
      }
      assertTrue(row.get("persona").asText().matches("\\S+ \\S+, \\d+, .+"), row.get("persona").asText());
    }
  }

  @Test
  void writerEditor() throws Exception {
    List<JsonNode> rows = run("writer-editor");
    assertEquals(10, rows.size());
    for (JsonNode row : rows) {
      int score = Integer.parseInt(row.get("score").asText());
      assertTrue(score >= 1 && score <= 5);
      JsonNode revision = null;
      for (JsonNode c : row.get("calls")) {
        revision = c.get("step").asText().equals("revision") ? c : revision;
      }
      String lastPrompt = revision.at("/messages").get(revision.get("messages").size() - 1).get("content").asText();
      assertTrue(lastPrompt.startsWith("An editor wrote:\n- ") && lastPrompt.contains("(fix: "), lastPrompt);
      assertEquals(4, revision.get("messages").size(), "the revision continues the draft's conversation");
    }
  }
}
