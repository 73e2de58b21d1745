package io.skein.worker.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every step is checked by its kind before anything runs, each problem naming the step and the key. */
class StepChecksTest {

  private static final String HEAD = "name: x\nmodels: {writer: sim-small, judge: sim-large}\nsteps:\n";

  private static List<SpecError> errors(String steps) {
    return assertThrows(SpecException.class, () -> PipelinePlan.compile(SpecParser.parse(HEAD + steps), List.of("topic"))).errors();
  }

  private static String errorAt(String steps, String path) {
    List<SpecError> errors = errors(steps);
    return errors.stream().filter(e -> e.path().equals(path)).findFirst()
        .orElseThrow(() -> new AssertionError("no error at " + path + " in " + errors)).message();
  }

  @Test
  void modelStepsNameTheirAliasPromptAndConversation() {
    assertTrue(errorAt("  - {name: a, model: juge, prompt: p}\n", "steps[0] (a).model").contains("unknown model alias `juge`; did you mean `judge`?"));
    assertTrue(errorAt("  - {name: a, model: writer}\n", "steps[0] (a).prompt").contains("missing"));
    assertTrue(errorAt("  - {name: a, model: writer, prompt: p}\n  - {name: b, continue: c, prompt: q}\n", "steps[1] (b).continue")
        .contains("`c`, which does not exist"));
    assertTrue(errorAt("  - {name: a, model: writer, prompt: p, messages: [{role: user, content: x}]}\n", "steps[0] (a)").contains("not both"));
    assertTrue(errorAt("  - {name: a, model: writer, messages: [{role: robot, content: hi}]}\n", "steps[0] (a).messages[0].role")
        .contains("`robot` is not one of [system, user, assistant]"), "roles come from the schema");
    assertTrue(errorAt("  - {name: a, model: writer, promt: p}\n", "steps[0] (a).promt").contains("did you mean `prompt`?"));
  }

  @Test
  void anUnknownKindSuggestsTheNearestOne() {
    String message = errorAt("  - {name: a, kind: smapler, sampler: uuid}\n", "steps[0] (a).kind");
    assertTrue(message.contains("unknown step kind `smapler`; did you mean `sampler`?"), message);
    assertTrue(message.contains("llm-structured") && message.contains("validator"), message);
  }

  @Test
  void samplerParametersAreChecked() {
    assertTrue(errorAt("  - {name: c, kind: sampler, sampler: category, values: [a, b, c], weights: [5, 3]}\n", "steps[0] (c).weights")
        .contains("2 weights for 3 values"));
    assertTrue(errorAt("  - {name: c, kind: sampler, sampler: categry, values: [a]}\n", "steps[0] (c).sampler").contains("category"));
    assertTrue(errorAt("  - {name: p, kind: sampler, sampler: uniform, low: 5}\n", "steps[0] (p).high").contains("missing"));
    assertTrue(errorAt("  - {name: d, kind: sampler, sampler: datetime, start: soon, end: '2025-01-01'}\n", "steps[0] (d).start")
        .contains("not a date"));
    assertTrue(errorAt("  - {name: d, kind: sampler, sampler: datetime, start: '2024-01-01', end: '2025-01-01', convert_to: '%Q'}\n",
        "steps[0] (d).convert_to").contains("unsupported strftime directive `%Q`"));
    assertTrue(errorAt("  - {name: s, kind: sampler, sampler: subcategory, category: kind, values: {a: [x]}}\n", "steps[0] (s).category")
        .contains("unknown name `kind`"));
    assertTrue(errorAt("  - {name: b, kind: sampler, sampler: bernoulli, p: 2}\n", "steps[0] (b).p").contains("maximum"));
    assertTrue(errorAt("  - {name: b, kind: sampler, sampler: binomial, params: {n: 2000000000, p: 0.5}}\n", "steps[0] (b).params.n")
        .contains("at most 1000000"));
  }

  @Test
  void scipyDistributionsAreCheckedByScipysNames() {
    assertTrue(errorAt("  - {name: x, kind: sampler, sampler: scipy, dist_name: betta, dist_params: {a: 1, b: 2}}\n", "steps[0] (x).dist_name")
        .contains("`betta` is not one of the distributions Skein knows: beta, binom, cauchy"));
    assertTrue(errorAt("  - {name: x, kind: sampler, sampler: scipy, dist_name: beta, dist_params: {a: 1}}\n", "steps[0] (x).dist_params.b")
        .contains("missing: beta needs a, b"));
    assertTrue(errorAt("  - {name: x, kind: sampler, sampler: scipy, dist_name: lognorm, dist_params: {s: 1, mu: 3}}\n",
        "steps[0] (x).dist_params.mu").contains("not a parameter of lognorm (it takes s, loc, scale)"));
    assertTrue(errorAt("  - {name: x, kind: sampler, sampler: scipy, dist_name: beta, dist_params: {a: -1, b: 2}}\n",
        "steps[0] (x).dist_params").contains("beta cannot be made of these parameters"));
    assertTrue(errorAt("  - {name: x, kind: sampler, sampler: scipy, dist_name: norm, dist_params: {scale: 0}}\n",
        "steps[0] (x).dist_params.scale").contains("above 0"));
    assertTrue(errorAt("  - {name: x, kind: sampler, sampler: bernoulli_mixture, p: 0.3, dist_params: {s: 1}}\n", "steps[0] (x).dist_name")
        .contains("missing"));
  }

  @Test
  void aSchemaThatIsNotAJsonSchemaIsAnError() {
    String message = errorAt("  - {name: s, kind: llm-structured, model: writer, prompt: p, schema: {type: objekt}}\n", "steps[0] (s).schema");
    assertTrue(message.startsWith("is not a JSON Schema"), message);
  }

  @Test
  void aSchemaFileIsForTheCliAndAMissingSchemaIsNamed() {
    assertTrue(errorAt("  - {name: s, kind: llm-structured, model: writer, prompt: p, schema_file: s.json}\n", "steps[0] (s).schema_file")
        .contains("send the schema inline"));
    assertTrue(errorAt("  - {name: s, kind: llm-structured, model: writer, prompt: p}\n", "steps[0] (s).schema").startsWith("missing"));
  }

  @Test
  void aSchemaCannotMakeTheServerFetchAnything() {
    for (String ref : new String[] {"file:///etc/passwd", "http://127.0.0.1:9/schema.json"}) {
      String message = errorAt("  - {name: s, kind: llm-structured, model: writer, prompt: p, schema: {$ref: '" + ref + "'}}\n",
          "steps[0] (s).schema");
      assertTrue(message.startsWith("is not a JSON Schema") && message.contains("'" + ref + "' is not allowed to be loaded"), message);
    }
  }

  @Test
  void conditionsMustReadKnownNames() {
    assertTrue(errorAt("  - {name: a, model: writer, prompt: p, when: \"topik == 'x'\"}\n", "steps[0] (a).when")
        .contains("unknown name `topik`; did you mean `topic`?"));
    assertTrue(errorAt("  - {name: s, kind: sampler, sampler: category, values: [a], conditional: {\"agee > 3\": {values: [b]}}}\n",
        "steps[0] (s).conditional.agee > 3").contains("unknown name `agee`"));
  }

  @Test
  void validatorsAreChecked() {
    assertTrue(errorAt("  - {name: a, model: writer, prompt: p}\n  - {name: v, kind: validator, validator: jsn, target: a}\n",
        "steps[1] (v).validator").contains("`jsn` is not one of [regex, length, json, json-schema, sql, python]; did you mean `json`?"));
    assertTrue(errorAt("  - {name: a, model: writer, prompt: p}\n  - {name: v, kind: validator, validator: regex, target: a, pattern: '(['}\n",
        "steps[1] (v).pattern").contains("is not a regular expression"));
    assertTrue(errorAt("  - {name: a, model: writer, prompt: p}\n  - {name: v, kind: validator, validator: regex, target: b, pattern: x}\n",
        "steps[1] (v).target").contains("unknown name `b`"));
    assertTrue(errorAt("  - {name: e, kind: expression, expr: x}\n  - {name: v, kind: validator, validator: json, target: e, on_fail: regenerate}\n",
        "steps[1] (v).on_fail").contains("calls a model"));
  }

  @Test
  void tracesAndReasoningNeedAStepThatCallsAModel() {
    assertTrue(errorAt("  - {name: e, kind: expression, expr: x, with_trace: all}\n", "steps[0] (e).with_trace").contains("calls no model"));
    assertTrue(errorAt("  - {name: s, kind: sampler, sampler: uuid, extract_reasoning: true}\n", "steps[0] (s).extract_reasoning")
        .contains("calls no model"));
  }

  @Test
  void processorsReadKnownNamesAndDropFieldsTheRowHas() {
    List<SpecError> errors = assertThrows(SpecException.class, () -> PipelinePlan.compile(SpecParser.parse(HEAD
        + "  - {name: a, model: writer, prompt: p}\nprocessors:\n  - {name: chat, template: {messages: [{role: user, content: \"{{ b }}\"}]}}\n"
        + "  - {drop: [topik]}\n"), List.of("topic"))).errors();
    assertEquals("processors[0].template.messages[0].content", errors.get(0).path());
    assertTrue(errors.get(0).message().contains("unknown name `b`"), errors.toString());
    assertEquals("processors[1].drop[0]", errors.get(1).path());
    assertTrue(errors.get(1).message().contains("did you mean `topic`?"), errors.toString());
  }

  @Test
  void everyStepProblemIsReportedAtOnce() {
    List<SpecError> errors = errors("""
          - {name: a, model: n, prompt: p}
          - {name: b, continue: z, prompt: q}
          - {name: c, kind: smapler}
          - {name: d, kind: expression}
        """);
    assertEquals(4, errors.size(), errors.toString());
    assertEquals("steps[3] (d).expr", errors.get(3).path());
  }
}
