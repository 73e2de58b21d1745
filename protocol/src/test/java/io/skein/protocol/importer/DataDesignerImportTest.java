package io.skein.protocol.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.SpecParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The configs Data Designer's own write_config produced (fixtures/data-designer) as Skein specs. */
class DataDesignerImportTest {

  static final Path FIXTURES = Path.of(System.getProperty("user.dir")).resolve("../fixtures/data-designer").normalize();

  static JsonNode fixture(String file) throws Exception {
    return SpecParser.readTree(Files.readString(FIXTURES.resolve(file)));
  }

  private static Map<String, JsonNode> steps(ObjectNode spec) {
    Map<String, JsonNode> out = new java.util.LinkedHashMap<>();
    spec.get("steps").forEach(s -> out.put(s.get("name").asText(), s));
    return out;
  }

  private static List<String> gapsOf(List<Gap> gaps, String where) {
    return gaps.stream().filter(g -> g.where().equals(where)).map(Gap::reason).toList();
  }

  @Test
  void theSupportTicketsConfigConverts() throws Exception {
    var converted = DataDesignerImport.convert(fixture("fixture_support_tickets.yaml"), "tickets", null);
    ObjectNode spec = converted.spec();
    Map<String, JsonNode> steps = steps(spec);
    assertEquals(List.of("ticket_id", "opened_at", "first_reply_at", "agent", "agent_signature", "refund_amount", "refund_requested",
        "csat_raw", "csat_stars", "priority", "key_account", "channel", "triage_note", "ticket_summary", "reply_draft", "agent_reply",
        "reply_review", "resolution", "reply_state"), new ArrayList<>(steps.keySet()), "every column, in the config's order");
    assertEquals(List.of(), converted.gaps().stream().filter(Gap::dropped).toList(), "nothing is left out");
    assertEquals("{\"dist_name\":\"lognorm\",\"dist_params\":{\"s\":0.5,\"scale\":60},\"p\":0.3}",
        steps.get("refund_amount").get("params").toString());
    assertEquals("scipy", steps.get("csat_raw").get("sampler").asText());

    assertEquals("{\"file\":\"seed_support_tickets.jsonl\",\"sampling\":\"ordered\",\"selection\":{\"end\":9,\"start\":2}}",
        spec.get("input").toString(),
        "a seeded config without num_records takes the seed's rows");
    JsonNode model = spec.at("/models/helpdesk-llm");
    assertEquals("mistralai/mistral-small-24b-instruct", model.get("model").asText());
    assertEquals(0.7, model.get("temperature").asDouble());
    assertEquals(0.9, model.get("top_p").asDouble());
    assertEquals(1500, model.get("max_tokens").asInt());
    assertEquals(120, model.get("timeout").asInt());
    assertEquals("{\"seed\":7}", model.get("params").toString(), "extra_body goes with every request");

    JsonNode ticket = steps.get("ticket_id");
    assertEquals("{\"name\":\"ticket_id\",\"kind\":\"sampler\",\"sampler\":\"uuid\",\"params\":{\"prefix\":\"TKT-\","
        + "\"short_form\":true,\"uppercase\":true}}", ticket.toString());
    assertEquals("person", steps.get("agent").get("sampler").asText());
    assertEquals("{\"age_range\":[22,60],\"locale\":\"en_US\",\"sex\":\"Female\"}", steps.get("agent").get("params").toString(),
        "null parameters (city) are left out");
    assertTrue(steps.get("agent").get("drop").asBoolean());
    assertEquals("%Y-%m-%d %H:%M", steps.get("first_reply_at").get("convert_to").asText());
    assertEquals("{\"refund_amount > 100\":{\"values\":[\"high\",\"urgent\"],\"weights\":[0.75,0.25]}}",
        steps.get("priority").get("conditional").toString());

    assertEquals("llm", steps.get("triage_note").get("kind").asText());
    assertEquals("helpdesk-llm", steps.get("triage_note").get("model").asText());
    assertTrue(steps.get("triage_note").get("system").asText().startsWith("You triage support tickets"));
    assertEquals("all_messages", steps.get("triage_note").get("with_trace").asText());
    assertFalse(steps.get("ticket_summary").has("with_trace"));
    assertEquals("TicketSummary", steps.get("ticket_summary").at("/schema/title").asText());
    assertEquals("not (channel == 'phone')", steps.get("reply_draft").get("when").asText());
    assertEquals("true", steps.get("reply_state").get("when").asText(), "propagate_skip: false");
    assertFalse(steps.get("agent_reply").has("when"), "propagate_skip: true is Skein's own rule");
    assertEquals(2, steps.get("reply_review").get("scores").size());
    assertEquals("str", steps.get("resolution").get("type").asText());
    assertEquals("[{\"drop\":[\"csat_raw\"]}]", spec.get("processors").toString());

    assertEquals("[{\"field\":\"screenshot_url\",\"type\":\"url\"}]", steps.get("triage_note").get("images").toString(),
        "multi_modal_context: the screenshot goes with the prompt");
    assertEquals(0, gapsOf(converted.gaps(), "triage_note").size(), converted.gaps().toString());
    assertEquals("(answered on a call)", steps.get("reply_draft").get("skip_value").asText(), "skip.value");
    assertTrue(gapsOf(converted.gaps(), "reply_draft").isEmpty(), converted.gaps().toString());
    assertTrue(gapsOf(converted.gaps(), "model_configs.helpdesk-llm").get(0).contains("max_parallel_requests"));
  }

  @Test
  void theJsonConfigConvertsAsTheYamlDoes() throws Exception {
    var yaml = DataDesignerImport.convert(fixture("fixture_support_tickets.yaml"), "tickets", 25);
    var json = DataDesignerImport.convert(fixture("fixture_support_tickets.json"), "tickets", 25);
    assertEquals(yaml.spec(), json.spec());
    assertEquals(yaml.gaps(), json.gaps());
    assertEquals(25, yaml.spec().at("/input/num_records").asInt(), "--num-records as create(num_records=...)");
  }

  @Test
  void theScienceTutorConfigConverts() throws Exception {
    var converted = DataDesignerImport.convert(fixture("fixture_science_tutor.yaml"), "tutor", 10);
    Map<String, JsonNode> steps = steps(converted.spec());
    assertEquals("llm-code", steps.get("demo_code").get("kind").asText());
    assertEquals("python", steps.get("demo_code").get("language").asText());
    JsonNode check = steps.get("demo_code_check");
    assertEquals("{\"name\":\"demo_code_check\",\"kind\":\"validator\",\"target\":\"demo_code\",\"validator\":\"python\","
        + "\"shape\":\"data-designer\"}",
        check.toString());
    assertEquals("int", steps.get("session_minutes").get("convert_to").asText());
    assertEquals(2, steps.get("explanation_style").get("conditional").size());
    assertEquals("last_message", steps.get("explanation").get("with_trace").asText());
    assertTrue(steps.get("explanation").get("extract_reasoning_content").asBoolean());
    assertEquals("subject", steps.get("subtopic").at("/params/category").asText());

    JsonNode tutor = converted.spec().at("/models/tutor-llm");
    assertEquals("uniform", tutor.at("/temperature/distribution").asText(), "drawn per call, as Data Designer does: " + tutor);
    assertTrue(tutor.at("/temperature/low").asDouble() < tutor.at("/temperature/high").asDouble(), tutor.toString());
    assertEquals("manual", tutor.at("/top_p/distribution").asText(), tutor.toString());
    assertTrue(tutor.at("/top_p/values").isArray(), tutor.toString());
    SpecParser.parse(converted.spec());
    assertEquals("{\"chat_template_kwargs\":{\"enable_thinking\":true}}", tutor.get("params").toString());
    assertFalse(tutor.has("timeout"), "timeout: null is left to the server");

    assertEquals("tutoring_sft", converted.spec().at("/processors/0/name").asText());
    assertEquals("{{ explanation }}", converted.spec().at("/processors/0/template/messages/2/content").asText());
    assertEquals("{\"file\":\"seed_learner_profiles.csv\",\"sampling\":\"shuffle\",\"selection\":{\"index\":1,"
        + "\"num_partitions\":2},\"num_records\":10}",
        converted.spec().get("input").toString());

    Map<String, List<String>> gaps = converted.gaps().stream()
        .collect(Collectors.groupingBy(Gap::where, java.util.LinkedHashMap::new, Collectors.mapping(Gap::reason, Collectors.toList())));
    assertEquals(List.of("model_configs.tutor-llm", "model_configs.grader-llm", "demo_code_check"), new ArrayList<>(gaps.keySet()),
        converted.gaps().toString());
    assertEquals("session_minutes >= 15.0", steps.get("session_minutes").get("accept").asText(), "the scalar_inequality constraint");
  }

  @Test
  void constraintsBecomeTheSamplersAcceptJoinedWhenSeveral() throws Exception {
    JsonNode config = SpecParser.readTree("""
        data_designer:
          columns:
            - {name: start, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 10}}
            - {name: end, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 20}}
            - {name: note, column_type: expression, expr: "{{ end - start }}"}
          constraints:
            - {constraint_type: column_inequality, target_column: end, operator: gt, rhs: start}
            - {constraint_type: scalar_inequality, target_column: end, operator: le, rhs: 18}
            - {constraint_type: scalar_inequality, target_column: note, operator: lt, rhs: 3}
            - {target_column: start, operator: ne, rhs: 2}
        """);
    var converted = DataDesignerImport.convert(config, "c", 5);
    Map<String, JsonNode> steps = steps(converted.spec());
    assertEquals("end > start and end <= 18", steps.get("end").get("accept").asText());
    assertEquals("[constraints[2]: scalar_inequality on `note`: `note` is not a sampler column, constraints[3]:  on `start`: operator"
        + " `ne` is not lt, le, gt or ge]", converted.gaps().stream().map(g -> g.where() + ": " + g.reason()).toList().toString());
  }

  @Test
  void whatCannotCarryOverIsNamedAndTheRestConverts() throws Exception {
    JsonNode config = SpecParser.readTree("""
        data_designer:
          columns:
            - {column_type: custom, name: f, generator_function: f}
            - {column_type: sampler, name: who, sampler_type: person, params: {sampler_type: person, locale: en_US}}
            - {column_type: llm-text, name: t, model_alias: m, prompt: "{{ index }}", tool_alias: search}
            - {column_type: expression, name: e, expr: "{{ index }}", dtype: int}
          model_configs: [{alias: m, model: sim-small, inference_parameters: {}}]
          seed_config: {source: {seed_type: hf, path: "datasets/x"}}
          tool_configs: [{tool_alias: search}]
        library_version: 0.9.0rc1
        """);
    var converted = DataDesignerImport.convert(config, "odd", null);
    assertEquals(List.of("t", "e"), new ArrayList<>(steps(converted.spec()).keySet()));
    assertEquals(List.of("seed_config", "f", "who"), converted.gaps().stream().map(Gap::where).toList());
    assertEquals("[\"search\"]", steps(converted.spec()).get("t").get("tools").toString(), "tool_alias: the step offers that tool set");
    assertEquals("{\"search\":{\"servers\":[]}}", converted.spec().get("tools").toString());
    assertTrue(converted.gaps().get(1).reason().contains("Python function"));
    assertTrue(converted.gaps().get(2).reason().contains("person_from_faker"));
    assertEquals(DataDesignerImport.DEFAULT_RECORDS, converted.spec().at("/input/num_records").asInt());
    assertTrue(converted.gaps().stream().allMatch(Gap::dropped));
  }

  @Test
  void aSkeinSpecIsNotAConfig() {
    JsonNode spec = SpecParser.readTree("name: x\nmodels: {m: sim-small}\nsteps: [{name: a, model: m, prompt: hi}]");
    assertFalse(DataDesignerImport.isConfig(spec));
    assertThrows(IllegalArgumentException.class, () -> DataDesignerImport.convert(spec, "x", null));
  }
}
