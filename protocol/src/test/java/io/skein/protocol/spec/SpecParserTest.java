package io.skein.protocol.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SpecParserTest {

  static final String EXAMPLE = """
      name: support-qa
      models:
        writer: {model: sim-small, temperature: 0.8, max_tokens: 400}
        judge:  {model: sim-small, temperature: 0}
      input:
        file: records.jsonl
      steps:
        - name: question
          model: writer
          system: "You are a customer writing to support."
          prompt: "Write a question about {{ topic }}."
        - name: answer
          model: writer
          prompt: "{{ question }}"
        - name: tone
          model: judge
          prompt: "Rate the tone of: {{ question }}"
        - name: followup
          continue: answer
          prompt: "Can you give an example?"
      output:
        messages:
          - {role: user, content: "{{ question }}"}
          - {role: assistant, content: "{{ answer }}"}
      """;

  private static List<SpecError> errors(String spec) {
    return assertThrows(SpecException.class, () -> SpecParser.parse(spec)).errors();
  }

  private static SpecError errorAt(String spec, String path) {
    List<SpecError> errors = errors(spec);
    return errors.stream().filter(e -> e.path().equals(path)).findFirst()
        .orElseThrow(() -> new AssertionError("no error at " + path + " in " + errors));
  }

  @Test
  void theExampleParses() {
    PipelineSpec spec = SpecParser.parse(EXAMPLE);
    assertEquals("support-qa", spec.name());
    assertEquals(0.8, spec.models().get("writer").temperature());
    assertEquals(400, spec.models().get("writer").maxTokens());
    assertEquals("sim-small", spec.models().get("judge").model());
    assertEquals("records.jsonl", spec.input().file());
    assertEquals(4, spec.steps().size());
    StepSpec followup = spec.steps().get(3);
    assertEquals("answer", followup.text("continue"), "a step's own keys are left to its kind");
    assertNull(followup.text("model"));
    assertEquals("llm", followup.kind());
    assertEquals("steps[3] (followup)", followup.path());
    assertEquals("You are a customer writing to support.", spec.steps().get(0).text("system"));
    assertEquals(2, spec.output().messages().size());
    assertEquals(RetrySpec.DEFAULT, spec.retry());
  }

  @Test
  void jsonIsReadLikeYaml() {
    String json = """
        {"name": "j", "models": {"m": "sim-small"}, "input": {"num_records": 3},
         "steps": [{"name": "a", "model": "m", "prompt": "hi {{ index }}"}]}
        """;
    PipelineSpec spec = SpecParser.parse(json);
    assertEquals("sim-small", spec.models().get("m").model(), "an alias may be just a model name");
    assertEquals(3L, spec.input().numRecords());
  }

  @Test
  void malformedYamlAndJsonSayWhere() {
    SpecError yaml = errors("name: x\nsteps: [\n  - {name: a").get(0);
    assertTrue(yaml.message().startsWith("malformed YAML at line"), yaml.toString());
    SpecError json = errors("{\"name\": \"x\",, }").get(0);
    assertTrue(json.message().startsWith("malformed JSON at line 1"), json.toString());
    assertEquals("the spec is empty", errors("   ").get(0).message());
  }

  @Test
  void requiredPartsAreNamed() {
    assertTrue(errorAt("models: {m: x}\nsteps: [{name: a, model: m, prompt: p}]", "name").message().contains("missing"));
    assertTrue(errorAt("name: x\nsteps: []", "steps").message().contains("non-empty"));
  }

  @Test
  void stepNamesMustBeUniqueTemplateNames() {
    String twice = "name: x\nmodels: {m: s}\nsteps:\n  - {name: a, model: m, prompt: p}\n  - {name: a, model: m, prompt: q}";
    assertTrue(errorAt(twice, "steps[1] (a).name").message().contains("used twice"));
    String bad = "name: x\nmodels: {m: s}\nsteps:\n  - {name: 2nd-step, model: m, prompt: p}";
    assertTrue(errorAt(bad, "steps[0] (2nd-step).name").message().contains("letters, digits and _"));
    String reserved = "name: x\nmodels: {m: s}\nsteps:\n  - {name: index, model: m, prompt: p}";
    assertTrue(errorAt(reserved, "steps[0] (index).name").message().contains("reserved"));
  }

  @Test
  void unknownKeysAreErrorsWithASuggestion() {
    SpecError top = errorAt(EXAMPLE.replace("steps:", "stpes:"), "stpes");
    assertTrue(top.message().contains("did you mean `steps`?"), top.message());
  }

  @Test
  void valuesAreChecked() {
    assertTrue(errorAt(EXAMPLE.replace("temperature: 0.8", "temperature: 3"), "models.writer.temperature").message()
        .contains("between 0.0 and 2.0"));
    assertTrue(errorAt(EXAMPLE.replace("model: sim-small, temperature: 0.8", "model: http://x/v1, temperature: 0.8"),
        "models.writer.model").message().contains("not an endpoint"));
    assertTrue(errorAt(EXAMPLE.replace("file: records.jsonl", "file: r.jsonl\n  records: [{a: 1}]"), "input").message()
        .contains("only one of"));
    assertTrue(errorAt(EXAMPLE.replace("file: records.jsonl", "file: r.csv\n  sampling: shufle"), "input.sampling").message()
        .contains("did you mean `shuffle`?"));
    InputSpec drawn = SpecParser.parse(EXAMPLE.replace("file: records.jsonl", "file: r.parquet\n  num_records: 50\n  sampling: replace\n  limit: 20"))
        .input();
    assertEquals(new InputSpec("r.parquet", null, 50L, List.of(), "replace", 20L), drawn);
    assertEquals(InputSpec.Selection.range(2, 9), SpecParser.parse(EXAMPLE.replace("file: records.jsonl",
        "file: r.jsonl\n  selection: {start: 2, end: 9}")).input().selection());
    assertEquals(InputSpec.Selection.partition(1, 2), SpecParser.parse(EXAMPLE.replace("file: records.jsonl",
        "file: r.jsonl\n  selection: {index: 1, num_partitions: 2}")).input().selection());
    assertTrue(errorAt(EXAMPLE.replace("file: records.jsonl", "file: r.jsonl\n  selection: {start: 5, end: 2}"), "input.selection.end")
        .message().contains("must not be below start"));
    assertTrue(errorAt(EXAMPLE.replace("file: records.jsonl", "file: r.jsonl\n  selection: {index: 2, num_partitions: 2}"),
        "input.selection.index").message().contains("below num_partitions"));
    assertTrue(errorAt(EXAMPLE.replace("file: records.jsonl", "file: r.jsonl\n  selection: {first: 2}"), "input.selection")
        .message().contains("{start, end}"));
    assertTrue(errorAt(EXAMPLE.replace("name: tone", "name: tone\n    n: 0"), "steps[2] (tone).n").message().contains("at least 1"));
    assertTrue(errorAt(EXAMPLE.replace("name: tone", "name: tone\n    n: 5000"), "steps[2] (tone).n").message().contains("at most 1000"));
    assertTrue(errorAt(EXAMPLE.replace("name: tone", "name: tone\n    with_trace: every"), "steps[2] (tone).with_trace").message()
        .contains("none, last or all"));
    assertTrue(errorAt(EXAMPLE + "  fields: {id: x}\n", "output.fields.id").message().contains("set by Skein"));
  }

  @Test
  void aTargetTakesThePlaceOfNumRecordsAndIsBoundedByMaxRecords() {
    String base = "name: t\nmodels: {m: {model: x}}\nsteps: [{name: a, model: m, prompt: hi}]\n";
    TargetSpec target = SpecParser.parse(base + "target: 100\n").target();
    assertEquals(new TargetSpec(100, 300), target, "max_records defaults to 3 x target");
    assertEquals(new TargetSpec(100, 150), SpecParser.parse(base + "target: 100\nmax_records: 150\n").target());
    assertEquals(null, SpecParser.parse(base + "input: {num_records: 3}\n").target());
    assertTrue(errorAt(base + "target: 100\nmax_records: 50\n", "max_records").message().contains("fewer than the 100 rows"));
    assertTrue(errorAt(base + "max_records: 50\n", "max_records").message().contains("give `target: N`"));
    assertTrue(errorAt(base + "target: 10\ninput: {num_records: 5}\n", "input.num_records").message().contains("leave out num_records"));
    assertTrue(errorAt(base + "target: 0\n", "target").message().contains("1"));
    assertTrue(errorAt(base + "target: 5\nprocessors: [{name: extras, template: {a: \"{{ a }}\"}}]\n", "processors").message()
        .contains("name this dataset otherwise"));
  }

  @Test
  void maxCostAndMaxErrorRateSayWhenAJobPausesItself() {
    String base = "name: t\nmodels: {m: {model: x}}\nsteps: [{name: a, model: m, prompt: hi}]\n";
    assertEquals(EarlyStop.NONE, SpecParser.parse(base).earlyStop());
    EarlyStop both = SpecParser.parse(base + "max_cost: 25.5\nmax_error_rate: {rate: 0.5, window: 40}\n").earlyStop();
    assertEquals(25.5, both.maxCost());
    assertEquals(25_500_000_000L, both.maxCostNanos());
    assertEquals(new EarlyStop.ErrorRate(0.5, 40), both.maxErrorRate());
    assertEquals(new EarlyStop.ErrorRate(0.2, 100), SpecParser.parse(base + "max_error_rate: {rate: 0.2}\n").earlyStop().maxErrorRate(),
        "the window defaults to 100 records");
    assertTrue(errorAt(base + "max_cost: 0\n", "max_cost").message().contains("between"));
    assertTrue(errorAt(base + "max_cost: ten\n", "max_cost").message().contains("number"));
    assertTrue(errorAt(base + "max_error_rate: 0.5\n", "max_error_rate").message().contains("{rate: 0.5, window: 100}"));
    assertTrue(errorAt(base + "max_error_rate: {rate: 1.5}\n", "max_error_rate.rate").message().contains("between"));
    assertTrue(errorAt(base + "max_error_rate: {window: 10}\n", "max_error_rate.rate").message().contains("required"));
    assertTrue(errorAt(base + "max_error_rate: {rate: 0.5, window: 0}\n", "max_error_rate.window").message().contains("at least 1"));
    assertTrue(errorAt(base + "max_error_rate: {rate: 0.5, windw: 10}\n", "max_error_rate.windw").message().contains("window"));
  }

  @Test
  void toolSetsNameTheirServersAllowListAndLimits() {
    String base = "name: t\nmodels: {m: {model: x}}\nsteps: [{name: a, model: m, prompt: hi}]\n";
    ToolsSpec tools = SpecParser.parse(base + """
        tools:
          lab:
            servers: [docs, {command: uvx, args: [mcp-server-time], env: {TZ: UTC}}, {url: "https://s.example.com/mcp", api_key_env: S_KEY}]
            allow: [search]
            max_tool_turns: 3
            timeout: 20
          calc: {url: "http://127.0.0.1:9/sse", transport: sse}
        """).tools();
    ToolsSpec.Toolset lab = tools.get("lab");
    assertEquals(List.of("docs", "uvx mcp-server-time", "https://s.example.com/mcp"), lab.servers().stream().map(ToolsSpec.Server::describe).toList());
    assertEquals("streamable_http", lab.servers().get(2).transport());
    assertEquals("S_KEY", lab.servers().get(2).apiKeyEnv());
    assertEquals(java.util.Map.of("TZ", "UTC"), lab.servers().get(1).env());
    assertTrue(lab.allows("search") && !lab.allows("delete"));
    assertEquals(3, lab.maxToolTurns());
    assertEquals(20, lab.timeoutSeconds());
    ToolsSpec.Toolset calc = tools.get("calc");
    assertEquals("sse", calc.servers().get(0).transport());
    assertTrue(calc.allows("anything"), "no allow-list: every tool");
    assertEquals(ToolsSpec.DEFAULT_MAX_TOOL_TURNS, calc.maxToolTurns());
    assertEquals(ToolsSpec.NONE, SpecParser.parse(base).tools());

    assertTrue(errorAt(base + "tools: {x: {allow: [a]}}\n", "tools.x").message().contains("names no MCP server"));
    assertTrue(errorAt(base + "tools: {x: {command: a, url: \"http://h/mcp\"}}\n", "tools.x").message().contains("exactly one of"));
    assertTrue(errorAt(base + "tools: {x: {url: \"http://h/mcp\", transport: websocket}}\n", "tools.x.transport").message()
        .contains("not one of [sse, stdio, streamable_http]"));
    assertTrue(errorAt(base + "tools: {x: {url: \"ftp://h\"}}\n", "tools.x.url").message().contains("http://"));
    assertTrue(errorAt(base + "tools: {x: {command: a, max_tool_turns: 0}}\n", "tools.x.max_tool_turns").message().contains("at least 1"));
    assertTrue(errorAt(base + "tools: {x: {command: a, alow: [b]}}\n", "tools.x.alow").message().contains("did you mean `allow`"));
    assertTrue(errorAt(base + "tools: {x: {servers: [{command: a, api_key_env: K}]}}\n", "tools.x.servers[0].api_key_env").message()
        .contains("server reached by URL"));
  }

  @Test
  void temperatureAndTopPMayBeDistributionsDrawnPerCall() {
    String head = "name: t\nsteps: [{name: a, model: m, prompt: hi}]\nmodels:\n  m: {model: x, ";
    ModelSpec m = SpecParser.parse(head + "temperature: {distribution: uniform, low: 0.2, high: 0.8}, top_p: 0.9}\n").models().get("m");
    assertEquals(null, m.temperature());
    assertEquals(new ParamDistribution("uniform", 0.2, 0.8, List.of(), List.of()), m.temperatureDistribution());
    assertEquals(0.9, m.topP());
    double t = m.temperatureDistribution().sample(42);
    assertTrue(t >= 0.2 && t <= 0.8 && t == m.temperatureDistribution().sample(42), "deterministic per seed: " + t);
    assertTrue(errorAt(head + "temperature: {distribution: uniform, low: 0.9, high: 0.2}}\n", "models.m.temperature").message()
        .contains("low < high"));
    assertTrue(errorAt(head + "top_p: {distribution: manual, values: [0.5, 1.5]}}\n", "models.m.top_p.values").message()
        .contains("between 0.0 and 1.0"));
    assertTrue(errorAt(head + "top_p: {distribution: manual, values: [0.5, 0.6], weights: [1]}}\n", "models.m.top_p.weights")
        .message().contains("one weight"));
    assertTrue(errorAt(head + "temperature: {distribution: normal}}\n", "models.m.temperature.distribution").message()
        .contains("not one of [uniform, manual]"));
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    String spec = "name: x\nmodels: {m: s}\nsteps:\n  - {name: a, model: n, prompt: p, drop: maybe}\n  - {name: a, prompt: q}\nextra: 1";
    assertEquals(3, errors(spec).size(), errors(spec).toString());
  }

  @Test
  void retryDurationsParse() {
    PipelineSpec spec = SpecParser.parse(EXAMPLE + "retry: {max_attempts: 4, initial_backoff: 250ms, max_backoff: 1m}\n");
    assertEquals(new RetrySpec(4, 250, 60_000), spec.retry());
    assertEquals(2000, SpecParser.parse(EXAMPLE + "retry: {initial_backoff: 2s}\n").retry().initialBackoffMillis());
    assertTrue(errorAt(EXAMPLE + "retry: {initial_backoff: soon}\n", "retry.initial_backoff").message().contains("duration"));
    assertTrue(errorAt(EXAMPLE + "retry: {initial_backoff: 2s, max_backoff: 1s}\n", "retry.max_backoff").message()
        .contains("not be below"));
  }
}
