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
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The configs Data Designer's own write_config produced (fixtures/data-designer), converted by
 * {@code skein import data-designer} and run by {@code skein run} against the simulator (which
 * serves their model names with simulate-all): every column Data Designer wrote in every row of
 * its run is in every row of Skein's, under the same name, and nothing else but the row's id.
 */
class DataDesignerImportTest {

  private static final Path FIXTURES = Path.of(System.getProperty("user.dir")).resolve("../fixtures/data-designer").normalize();

  @TempDir
  Path dir;

  /** Imports {@code config} beside the test's files and runs it; the rows. */
  private List<JsonNode> importAndRun(String config, String... importArgs) throws Exception {
    return importAndRunWith("", config, importArgs);
  }

  /** The same, with more of the node's config ({@code conf}, HOCON). */
  private List<JsonNode> importAndRunWith(String conf, String config, String... importArgs) throws Exception {
    Path spec = dir.resolve(config.replaceAll("\\.(yaml|json)$", "") + ".skein.yaml");
    List<String> args = new ArrayList<>(List.of("data-designer", FIXTURES.resolve(config).toString(), "-o", spec.toString()));
    args.addAll(List.of(importArgs));
    assertEquals(0, new CommandLine(new ImportCommand()).execute(args.toArray(String[]::new)), "the import converts and validates");
    Path out = dir.resolve("rows.jsonl");
    Files.writeString(dir.resolve("sim.conf"), "skein.simulator { latency = 5ms, reasoning = on }\n" + conf);
    try (SkeinProcess run = SkeinProcess.start(dir.resolve("run.log"), Map.of("SKEIN_SIMULATE_ALL", "on"), "run", spec.toString(),
        "--output", out.toString(), "--data-dir", dir.resolve("data").toString(), "--config", dir.resolve("sim.conf").toString())) {
      assertEquals(0, run.awaitExit(Duration.ofMinutes(3)), run.output());
    }
    Path errors = RunCommand.errorsBeside(out);
    assertFalse(Files.exists(errors) && Files.size(errors) > 0, "no error rows: " + (Files.exists(errors) ? Files.readString(errors) : ""));
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      rows.add(Http.JSON.readTree(line));
    }
    return rows;
  }

  private static void everyRowHas(List<JsonNode> rows, Set<String> columns) {
    for (JsonNode row : rows) {
      Set<String> keys = new TreeSet<>();
      row.fieldNames().forEachRemaining(keys::add);
      keys.remove("id");
      assertEquals(new TreeSet<>(columns), keys, row.toString());
    }
  }

  @Test
  void theSupportTicketsConfigRunsWithEveryColumn() throws Exception {
    List<JsonNode> rows = importAndRun("fixture_support_tickets.yaml", "--num-records", "12");
    assertEquals(12, rows.size());
    everyRowHas(rows, Set.of("product_area", "plan", "customer_message", "screenshot_url", "ticket_id", "opened_at", "first_reply_at",
        "refund_amount", "priority", "key_account", "channel", "csat_stars", "refund_requested", "agent_signature", "triage_note",
        "triage_note__trace", "ticket_summary", "agent_reply", "reply_review", "reply_state", "resolution"));
    for (JsonNode row : rows) {
      assertTrue(row.get("ticket_id").asText().matches("TKT-[0-9A-F]{8}"), row.toString());
      boolean phone = row.get("channel").asText().equals("phone");
      assertEquals(phone, row.get("agent_reply").isNull(), "skip.when and propagate_skip: " + row);
      assertEquals(phone, row.get("resolution").isNull(), row.toString());
      assertEquals(phone ? "phone" : "written", row.get("reply_state").asText(), "propagate_skip: false still computes it");
      assertEquals(row.get("refund_amount").asDouble() > 0, row.get("refund_requested").asBoolean(), row.toString());
      assertTrue(row.get("ticket_summary").get("next_steps").isArray(), "the structured column is JSON");
      assertTrue(row.at("/reply_review/Empathy/score").isTextual() || phone, row.toString());
    }
    List<String> seed = Files.readAllLines(FIXTURES.resolve("seed_support_tickets.jsonl"));
    for (int i = 0; i < rows.size(); i++) {
      JsonNode seedRow = Http.JSON.readTree(seed.get(2 + i % 8));
      assertEquals(seedRow.get("customer_message"), rows.get(i).get("customer_message"),
          "selection_strategy {start: 2, end: 9}, ordered: rows 2 to 9, then 2 again");
    }
    assertTrue(rows.stream().anyMatch(r -> r.get("channel").asText().equals("phone"))
        && rows.stream().anyMatch(r -> !r.get("channel").asText().equals("phone")), "both kinds of row were made");
  }

  @Test
  void theToolResearchConfigRunsWithEveryColumnAndItsToolsThroughMcp() throws Exception {
    Path log = dir.resolve("tool-calls.jsonl");
    List<JsonNode> rows = importAndRunWith("skein.tools.servers.lab-mcp = " + io.skein.deploy.tools.McpServers.hocon(log, 0) + "\n",
        "fixture_tool_research.yaml", "--num-records", "5");
    assertEquals(5, rows.size());
    everyRowHas(rows, Set.of("topic", "findings", "findings__trace", "fact_card"));
    long toolResults = 0;
    for (JsonNode row : rows) {
      JsonNode trace = row.get("findings__trace");
      assertEquals("tool", trace.get(3).get("role").asText(), "system, user, the tool calls, their results: " + trace);
      toolResults += trace.findValues("tool_call_id").size();
      assertTrue(row.get("fact_card").get("checked").isBoolean(), row.toString());
    }
    List<JsonNode> calls = io.skein.deploy.tools.McpServers.log(log);
    assertTrue(calls.stream().allMatch(c -> Set.of("add", "lookup").contains(c.get("tool").asText())), "allow_tools holds: " + calls);
    assertTrue(calls.size() / 2 > toolResults, "both columns called the tools: " + calls.size() / 2 + " calls, " + toolResults + " in findings");
  }

  @Test
  void theScienceTutorConfigRunsWithEveryColumn() throws Exception {
    List<JsonNode> rows = importAndRun("fixture_science_tutor.yaml", "--num-records", "8");
    assertEquals(8, rows.size());
    everyRowHas(rows, Set.of("learner_profile", "session_id", "session_start", "subject", "subtopic", "difficulty", "session_minutes",
        "prior_questions", "explanation_style", "student_name", "session_hours", "grade", "is_stretch_goal", "demo_code",
        "explanation", "explanation__trace", "explanation__reasoning_content", "quiz", "explanation_review", "demo_code_check",
        "accuracy_points", "needs_revision"));
    List<String> profiles = Files.readAllLines(FIXTURES.resolve("seed_learner_profiles.csv")).subList(1, 9);
    Set<String> secondHalf = new TreeSet<>(profiles.subList(4, 8).stream().map(p -> p.replaceAll("^\"|\"$", "")).toList());
    Set<String> used = new TreeSet<>();
    rows.forEach(r -> used.add(r.get("learner_profile").asText()));
    assertEquals(secondHalf, used, "selection_strategy {index: 1, num_partitions: 2}: the second half of the 8 rows, each used");
    for (JsonNode row : rows) {
      assertTrue(row.get("demo_code_check").has("is_valid"), "the validator has Data Designer's fields: " + row);
      assertTrue(row.get("session_minutes").isInt(), "convert_to: int");
      assertTrue(row.get("session_minutes").asInt() >= 15, "the constraint session_minutes >= 15: " + row);
      assertEquals(1, row.get("explanation__trace").size(), "with_trace: last_message");
      assertTrue(row.at("/explanation_review/Accuracy/score").isTextual(), "judge scores are the options' keys: " + row);
    }
  }

  @Test
  void skeinRunTakesTheConfigAsItIs() throws Exception {
    Path out = dir.resolve("direct.jsonl");
    Files.writeString(dir.resolve("sim.conf"), "skein.simulator { latency = 5ms }\n");
    try (SkeinProcess run = SkeinProcess.start(dir.resolve("direct.log"), Map.of("SKEIN_SIMULATE_ALL", "on"), "run",
        FIXTURES.resolve("fixture_support_tickets.yaml").toString(), "--num-records", "4", "--output", out.toString(),
        "--data-dir", dir.resolve("data").toString(), "--config", dir.resolve("sim.conf").toString())) {
      assertEquals(0, run.awaitExit(Duration.ofMinutes(3)), run.output());
      assertFalse(run.output().contains("multi_modal_context"), "the screenshot carries over: " + run.output());
    }
    List<String> rows = Files.readAllLines(out);
    assertEquals(4, rows.size(), "--num-records as create(num_records=...)");
    for (String line : rows) {
      JsonNode row = Http.JSON.readTree(line);
      JsonNode asked = row.get("triage_note__trace").get(1);
      assertEquals("user", asked.get("role").asText(), row.toString());
      assertEquals("[\"" + row.get("screenshot_url").asText() + "\"]", asked.get("images").toString(), "sent with the prompt: " + row);
      assertTrue(row.get("triage_note").asText().contains("Seen 1 image."), "the simulator got it: " + row);
    }
  }

  @Test
  void theHttpApiTakesTheConfigWithItsSeedRows() throws Exception {
    Path config = dir.resolve("node.conf");
    Files.writeString(config, "skein.simulator.latency = 5ms\nskein.models.simulate-all = on\n");
    try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("node"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http http = new Http(node.httpPort());
      String yaml = Files.readString(FIXTURES.resolve("fixture_support_tickets.yaml"));
      String seed = Files.readString(FIXTURES.resolve("seed_support_tickets.jsonl"));
      Http.Response created = http.multipart("/jobs?num_records=5", yaml, seed);
      assertEquals(201, created.status(), created.body());
      JsonNode notCarried = created.json().get("not_carried_over");
      assertTrue(notCarried.isArray() && notCarried.toString().contains("\"where\":\"model_configs.helpdesk-llm\""), created.body());
      JsonNode done = http.awaitState(created.json().get("id").asText(), "succeeded", Duration.ofMinutes(2));
      assertEquals(5, done.get("succeeded").asInt());
      List<JsonNode> rows = http.get("/jobs/" + created.json().get("id").asText() + "/results").lines();
      assertEquals(Http.JSON.readTree(seed.split("\n")[2]).get("customer_message"), rows.get(0).get("customer_message"),
          "the selection starts at row 2 of the rows sent");
      assertTrue(rows.get(0).has("reply_state") && rows.get(0).has("ticket_summary"));

      Http.Response bad = http.multipart("/jobs?num_records=none", yaml, seed);
      assertEquals(400, bad.status(), bad.body());
      assertTrue(bad.json().get("detail").asText().contains("num_records"), bad.body());
      Http.Response notDd = http.post("/jobs?num_records=3", "application/yaml",
          "name: x\nmodels: {m: sim-small}\ninput: {num_records: 2}\nsteps: [{name: a, model: m, prompt: hi}]");
      assertEquals(400, notDd.status(), notDd.body());
      assertTrue(notDd.json().get("detail").asText().contains("is for Data Designer configs"), notDd.body());
    }
  }

  @Test
  void theJsonConfigRunsAsTheYamlDoes() throws Exception {
    List<JsonNode> rows = importAndRun("fixture_support_tickets.json", "--num-records", "3");
    assertEquals(3, rows.size());
    assertTrue(rows.get(0).has("reply_state") && rows.get(0).has("triage_note__trace"));
  }
}
