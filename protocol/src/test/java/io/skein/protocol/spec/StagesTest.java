package io.skein.protocol.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.protocol.spec.Stages.Explode;
import io.skein.protocol.spec.Stages.Stage;
import io.skein.protocol.spec.Stages.Staged;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StagesTest {

  /** A setup call, then three stages: the first reads the input, the second explodes, the third filters. */
  static final String STAGED = """
      name: chain
      models:
        writer: {model: sim-small, temperature: 0.9}
      input:
        records:
          - {id: sea, subject: the sea}
          - {id: city, subject: a city at night}
      setup:
        - name: plan
          model: writer
          prompt: "Plan some poems."
      stages:
        - name: topics
          steps:
            - {name: ideas, model: writer, prompt: "Topics about {{ subject }}."}
        - name: poems
          explode: {field: ideas.items, as: idea}
          steps:
            - {name: poem, model: writer, prompt: "A poem about {{ idea }}."}
        - name: judged
          filter: "score >= 3"
          steps:
            - {name: verdict, model: writer, prompt: "Judge {{ poem }}."}
      """;

  private static Staged read(String yaml) {
    return Stages.read(SpecParser.readTree(yaml));
  }

  private static List<SpecError> errors(String yaml) {
    JsonNode tree = SpecParser.readTree(yaml);
    return assertThrows(SpecException.class, () -> Stages.read(tree), "the spec should be refused").errors();
  }

  private static SpecError errorAt(String yaml, String path) {
    List<SpecError> errors = errors(yaml);
    return errors.stream().filter(e -> e.path().equals(path)).findFirst()
        .orElseThrow(() -> new AssertionError("no error at " + path + " in " + errors));
  }

  @Test
  void aStagedSpecIsSetupThenEachStageInOrder() {
    assertTrue(Stages.isStaged(SpecParser.readTree(STAGED)), "a spec with stages is staged");
    Staged staged = read(STAGED);
    assertEquals("chain", staged.name());
    assertEquals(List.of("setup", "topics", "poems", "judged"), staged.names(), "setup first, then the stages in spec order");
    assertTrue(staged.hasSetup());
    assertEquals("judged", staged.last().name());
    Stage setup = staged.stage("setup").orElseThrow();
    assertTrue(setup.isSetup());
    assertTrue(setup.feed().fromInput(), "the setup stage makes its one record itself");
    assertEquals(1L, setup.spec().input().numRecords(), "the setup stage is one record");
    assertEquals("plan", setup.spec().steps().get(0).name(), "the setup steps are the setup stage's steps");
    assertEquals("sim-small", setup.spec().models().get("writer").model(), "the shared models reach the setup stage");
    for (Stage s : staged.stages()) {
      assertEquals("sim-small", s.spec().models().get("writer").model(), "the shared models reach stage " + s.name());
      assertEquals("chain", s.spec().name(), "the spec's name reaches stage " + s.name());
    }
  }

  @Test
  void theFirstStageReadsTheInputAndALaterOneTheStageBeforeIt() {
    Staged staged = read(STAGED);
    Stage topics = staged.stage("topics").orElseThrow();
    assertTrue(topics.feed().fromInput(), "the first stage reads the spec's input");
    assertNull(topics.feed().source());
    assertEquals(2, topics.spec().input().records().size(), "the first stage's spec holds the input");
    assertEquals(List.of("ideas"), topics.spec().steps().stream().map(StepSpec::name).toList());

    Stage poems = staged.stage("poems").orElseThrow();
    assertFalse(poems.feed().fromInput(), "a later stage reads a stage, not the input");
    assertEquals("topics", poems.feed().source(), "`from` defaults to the stage before");
    assertEquals(new Explode("ideas.items", "idea"), poems.feed().explode());
    assertEquals(List.of("ideas", "items"), poems.feed().explode().segments());
    assertNull(poems.feed().filter());
    assertEquals(InputSpec.NONE, poems.spec().input(), "a later stage's spec has no input of its own");
    assertEquals("stages[1] (poems)", poems.feed().path(), "a feed knows where it is written, for errors");

    Stage judged = staged.stage("judged").orElseThrow();
    assertEquals("poems", judged.feed().source(), "`from` defaults to the stage before, not the first");
    assertNull(judged.feed().explode());
    assertEquals("score >= 3", judged.feed().filter());
  }

  @Test
  void maxCostAndMaxErrorRateAtTheTopReachEveryStage() {
    Staged staged = read(STAGED.replace("name: chain\n", "name: chain\nmax_cost: 12.5\nmax_error_rate: {rate: 0.4, window: 50}\n"));
    for (Stage stage : staged.stages()) {
      assertEquals(12.5, stage.spec().earlyStop().maxCost(), stage.name());
      assertEquals(0.4, stage.spec().earlyStop().maxErrorRate().rate(), stage.name());
      assertEquals(50, stage.spec().earlyStop().maxErrorRate().window(), stage.name());
    }
    assertEquals("must be at most 100000 records",
        errorAt(STAGED.replace("name: chain\n", "name: chain\nmax_error_rate: {rate: 0.4, window: 200000}\n"), "max_error_rate.window")
            .message());
  }

  @Test
  void fromMayNameAnyEarlierStage() {
    Staged staged = read("""
        name: s
        input: {num_records: 2}
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, steps: [{name: y, prompt: "y"}]}
          - {name: c, from: a, steps: [{name: z, prompt: "z"}]}
        """);
    assertEquals("a", staged.stage("c").orElseThrow().feed().source(), "an explicit `from` wins over the stage before");
    assertFalse(staged.hasSetup(), "a spec without setup has no setup stage");
  }

  @Test
  void theFirstStageExplodingSetupReadsTheSetupRow() {
    Staged staged = read("""
        name: facts
        input: {records: [{id: r}]}
        setup:
          - {name: facts, prompt: "List the facts."}
        stages:
          - name: answered
            explode: {field: setup.facts.items, as: fact}
            steps: [{name: question, prompt: "Ask about {{ fact }}."}]
          - name: judged
            steps: [{name: verdict, prompt: "Judge {{ question }}."}]
        """);
    Stage answered = staged.stage("answered").orElseThrow();
    assertFalse(answered.feed().fromInput(), "exploding setup.*, the first stage reads the setup row, not the input");
    assertEquals("setup", answered.feed().source());
    assertEquals(new Explode("facts.items", "fact"), answered.feed().explode(), "the path is the setup row's, without `setup.`");
    assertEquals(InputSpec.NONE, answered.spec().input(), "a stage that reads the setup row takes no input");
    assertEquals("answered", staged.stage("judged").orElseThrow().feed().source());
  }

  @Test
  void anExplodeOfSetupWithoutAsIsNamedByItsLastSegment() {
    Staged staged = read("""
        name: s
        setup: [{name: plan, prompt: "p"}]
        stages:
          - {name: a, explode: setup.plan.items, steps: [{name: x, prompt: "{{ items }}"}]}
        """);
    Stage a = staged.stage("a").orElseThrow();
    assertEquals("setup", a.feed().source());
    assertEquals(new Explode("plan.items", "items"), a.feed().explode());
  }

  @Test
  void anExplodeIsAFieldOrAFieldAndAName() {
    Staged staged = read("""
        name: s
        input: {num_records: 2}
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, explode: topics, steps: [{name: y, prompt: "y"}]}
          - {name: c, from: a, explode: {field: ideas.items, as: idea}, steps: [{name: z, prompt: "z"}]}
          - {name: d, from: a, explode: {field: ideas.items}, steps: [{name: w, prompt: "w"}]}
        """);
    assertEquals(new Explode("topics", "topics"), staged.stage("b").orElseThrow().feed().explode(),
        "a bare field names each element as itself");
    assertEquals(new Explode("ideas.items", "idea"), staged.stage("c").orElseThrow().feed().explode());
    assertEquals(new Explode("ideas.items", "items"), staged.stage("d").orElseThrow().feed().explode(),
        "without `as`, an element is named by the path's last segment");
  }

  @Test
  void setupWithPlainStepsIsSetupThenMain() {
    JsonNode tree = SpecParser.readTree("""
        name: two
        models: {m: sim-small}
        input: {num_records: 3}
        setup:
          - {name: plan, model: m, prompt: "Plan."}
        steps:
          - {name: write, model: m, prompt: "Write {{ setup.plan }}."}
        output:
          fields: {text: "{{ write }}"}
        """);
    assertTrue(Stages.isStaged(tree), "setup alone makes a spec staged");
    Staged staged = Stages.read(tree);
    assertEquals(List.of(Stages.SETUP, Stages.MAIN), staged.names());
    Stage main = staged.last();
    assertTrue(main.feed().fromInput(), "the main stage reads the input");
    assertEquals(3L, main.spec().input().numRecords());
    assertEquals("write", main.spec().steps().get(0).name());
    assertEquals(Map.of("text", "{{ write }}"), main.spec().output().fields(), "the main stage has the spec's output");
    Stage setup = staged.stage("setup").orElseThrow();
    assertEquals(1L, setup.spec().input().numRecords(), "the setup stage is one record, whatever the input");
    assertNull(setup.spec().output(), "the output belongs to the main stage");
  }

  @Test
  void aPlainSpecIsNotStaged() {
    assertFalse(Stages.isStaged(SpecParser.readTree("name: p\nsteps: [{name: a, prompt: x}]\n")));
    assertFalse(Stages.isStaged(null));
  }

  @Test
  void fromALaterOrUnknownStageIsAnErrorAtFrom() {
    String later = """
        name: s
        stages:
          - {name: topics, from: poems, steps: [{name: x, prompt: "x"}]}
          - {name: poems, steps: [{name: y, prompt: "y"}]}
        """;
    SpecError e = errorAt(later, "stages[0] (topics).from");
    assertTrue(e.message().contains("names no earlier stage: `poems`"), e.message());
    assertTrue(e.message().contains("(earlier stages: [])"), "it says which stages it could read: " + e.message());

    String unknown = """
        name: s
        stages:
          - {name: topics, steps: [{name: x, prompt: "x"}]}
          - {name: poems, from: topcs, steps: [{name: y, prompt: "y"}]}
        """;
    SpecError u = errorAt(unknown, "stages[1] (poems).from");
    assertTrue(u.message().contains("names no earlier stage: `topcs`"), u.message());
    assertTrue(u.message().contains("; did you mean `topics`?"), "a near name is suggested: " + u.message());
    assertTrue(u.message().contains("(earlier stages: [topics])"), u.message());
  }

  @Test
  void aStageNamedTwiceIsAnError() {
    SpecError e = errorAt("""
        name: s
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: a, steps: [{name: y, prompt: "y"}]}
        """, "stages[1] (a).name");
    assertEquals("stage `a` is named twice", e.message());
  }

  @Test
  void aStageNamedSetupIsAnError() {
    SpecError e = errorAt("""
        name: s
        stages:
          - {name: setup, steps: [{name: x, prompt: "x"}]}
        """, "stages[0] (setup).name");
    assertTrue(e.message().contains("`setup` names the setup steps' stage"), e.message());
  }

  @Test
  void aBadStageNameIsAnError() {
    SpecError e = errorAt("""
        name: s
        stages:
          - {name: "a b", steps: [{name: x, prompt: "x"}]}
        """, "stages[0] (a b).name");
    assertTrue(e.message().contains("letters, digits, _ and -"), e.message());
  }

  @Test
  void stepsOutputAndProcessorsAtTheTopOfAStagedSpecAreErrors() {
    List<SpecError> errors = errors("""
        name: s
        steps: [{name: x, prompt: "x"}]
        output: {fields: {a: "{{ x }}"}}
        stages:
          - {name: a, steps: [{name: y, prompt: "y"}]}
        """);
    SpecError steps = errors.stream().filter(e -> e.path().equals("steps")).findFirst()
        .orElseThrow(() -> new AssertionError("no error at steps in " + errors));
    assertEquals("a spec with stages has its steps in each stage", steps.message());
    assertTrue(errors.stream().anyMatch(e -> e.path().equals("output")), "output too: " + errors);
  }

  @Test
  void anUnknownKeyInAStageIsAnErrorAtItsPath() {
    SpecError input = errorAt("""
        name: s
        input: {num_records: 2}
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, input: {num_records: 5}, steps: [{name: y, prompt: "y"}]}
        """, "stages[1] (b).input");
    assertTrue(input.message().startsWith("unknown field"), input.message());
    assertTrue(input.message().contains("only the first stage reads the spec's input"), input.message());

    SpecError typo = errorAt("""
        name: s
        stages:
          - {name: a, step: [{name: x, prompt: "x"}], steps: [{name: x, prompt: "x"}]}
        """, "stages[0] (a).step");
    assertTrue(typo.message().contains("did you mean `steps`?"), typo.message());
  }

  @Test
  void anUnknownTopKeyIsAnError() {
    SpecError e = errorAt("""
        name: s
        stage: []
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
        """, "stage");
    assertTrue(e.message().contains("did you mean `stages`?"), e.message());
  }

  @Test
  void aBadExplodeFieldIsAnErrorAtExplode() {
    SpecError bare = errorAt("""
        name: s
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, explode: "a..b", steps: [{name: y, prompt: "y"}]}
        """, "stages[1] (b).explode");
    assertTrue(bare.message().contains("got `a..b`"), bare.message());

    SpecError field = errorAt("""
        name: s
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, explode: {field: "a..b", as: x}, steps: [{name: y, prompt: "y"}]}
        """, "stages[1] (b).explode.field");
    assertTrue(field.message().contains("got `a..b`"), field.message());

    SpecError as = errorAt("""
        name: s
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, explode: {field: items, as: "1x"}, steps: [{name: y, prompt: "y"}]}
        """, "stages[1] (b).explode.as");
    assertTrue(as.message().contains("template name"), as.message());

    errorAt("""
        name: s
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, explode: [items], steps: [{name: y, prompt: "y"}]}
        """, "stages[1] (b).explode");
  }

  @Test
  void explodingSetupWithoutSetupStepsIsAnError() {
    SpecError e = errorAt("""
        name: s
        stages:
          - {name: a, explode: setup.facts.items, steps: [{name: x, prompt: "x"}]}
        """, "stages[0] (a).explode");
    assertTrue(e.message().contains("the spec has no setup steps"), e.message());
  }

  @Test
  void aBlankFilterIsAnError() {
    errorAt("""
        name: s
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, filter: " ", steps: [{name: y, prompt: "y"}]}
        """, "stages[1] (b).filter");
  }

  @Test
  void aStepErrorIsReportedAtItsPlaceInTheWholeSpec() {
    List<SpecError> errors = errors("""
        name: s
        setup:
          - {name: plan, n: 0, prompt: "p"}
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, steps: [{name: write, n: 0, prompt: "y"}]}
        """);
    assertTrue(errors.contains(new SpecError("stages[1] (b).steps[0] (write).n", "must be at least 1")),
        "a stage's step error is at stages[i] (name).steps[j]: " + errors);
    assertTrue(errors.contains(new SpecError("setup[0] (plan).n", "must be at least 1")),
        "a setup step's error is at setup[j]: " + errors);
    assertFalse(errors.stream().anyMatch(e -> e.path().startsWith("steps")), "no error at a bare stage-less path: " + errors);
  }

  @Test
  void aStageWithoutStepsIsAnErrorAtItsSteps() {
    SpecError e = errorAt("""
        name: s
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b}
        """, "stages[1] (b).steps");
    assertEquals("must be a non-empty list of steps", e.message());
  }

  @Test
  void aSharedKeyErrorIsReportedOnceNotOncePerStage() {
    List<SpecError> errors = errors("""
        name: s
        models:
          m: {temperature: 0}
        setup:
          - {name: plan, prompt: "p"}
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, steps: [{name: y, prompt: "y"}]}
        """);
    assertEquals(1, errors.stream().filter(e -> e.path().equals("models.m.model")).count(),
        "three stages read the shared models, the error is one: " + errors);
    assertEquals(1, errors.size(), "nothing else is wrong: " + errors);
  }

  @Test
  void aMissingNameIsReportedOnce() {
    List<SpecError> errors = errors("""
        stages:
          - {name: a, steps: [{name: x, prompt: "x"}]}
          - {name: b, steps: [{name: y, prompt: "y"}]}
        """);
    assertEquals(List.of(new SpecError("name", "missing")), errors);
  }

  @Test
  void everyProblemIsReportedNotOnlyTheFirst() {
    List<SpecError> errors = errors("""
        name: s
        stages:
          - {name: a, bogus: 1, steps: [{name: x, prompt: "x"}]}
          - {name: a, explode: "a..b", steps: [{name: y, prompt: "y"}]}
        """);
    List<String> paths = errors.stream().map(SpecError::path).toList();
    assertTrue(paths.containsAll(List.of("stages[0] (a).bogus", "stages[1] (a).name", "stages[1] (a).explode")), paths.toString());
  }

  @Test
  void emptyStagesAreAnError() {
    errorAt("name: s\nstages: []\n", "stages");
  }

  @Test
  void specParserRefusesAStagedTree() {
    JsonNode staged = SpecParser.readTree(STAGED);
    SpecException e = assertThrows(SpecException.class, () -> SpecParser.parse(staged), "a staged spec is read with Stages.read");
    assertEquals(1, e.errors().size(), "one error, not one per stage key: " + e.errors());
    assertEquals("stages", e.errors().get(0).path());
    assertTrue(e.errors().get(0).message().contains("several stages"), e.errors().get(0).message());

    JsonNode setupOnly = SpecParser.readTree("""
        name: s
        setup: [{name: plan, prompt: p}]
        steps: [{name: a, prompt: x}]
        """);
    SpecException s = assertThrows(SpecException.class, () -> SpecParser.parse(setupOnly), "setup makes a spec staged");
    assertEquals("setup", s.errors().get(0).path());
    assertTrue(s.errors().get(0).message().contains("several stages"), s.errors().get(0).message());
  }

  @Test
  void filesWithTextParse() {
    PipelineSpec spec = SpecParser.parse("""
        name: f
        files:
          doc: {text: "The sea is wide.", path: doc.md}
          notes: {text: "none"}
        steps:
          - {name: a, prompt: "{{ files.doc }}"}
        """);
    assertEquals(Map.of("doc", "The sea is wide.", "notes", "none"), spec.files());
    assertEquals(Map.of(), SpecParser.parse("name: f\nsteps: [{name: a, prompt: x}]\n").files(), "no files: an empty map");
  }

  @Test
  void filesReachEveryStage() {
    Staged staged = read("""
        name: f
        files:
          doc: {text: "The sea is wide."}
        setup: [{name: plan, prompt: "{{ files.doc }}"}]
        stages:
          - {name: a, steps: [{name: x, prompt: "{{ files.doc }}"}]}
        """);
    for (Stage s : staged.stages()) {
      assertEquals(Map.of("doc", "The sea is wide."), s.spec().files(), "stage " + s.name() + " reads the shared files");
    }
  }

  @Test
  void aFileGivenAsABarePathIsAnErrorAtItsName() {
    List<SpecError> errors = assertThrows(SpecException.class, () -> SpecParser.parse("""
        name: f
        files:
          doc: path.md
        steps:
          - {name: a, prompt: "{{ files.doc }}"}
        """)).errors();
    SpecError e = errors.stream().filter(x -> x.path().equals("files.doc")).findFirst()
        .orElseThrow(() -> new AssertionError("no error at files.doc in " + errors));
    assertTrue(e.message().contains("names a file (path.md)"), e.message());
    assertTrue(e.message().contains("{text: ...}"), "it says what to send instead: " + e.message());
  }

  @Test
  void otherBadFilesAreErrors() {
    List<SpecError> errors = assertThrows(SpecException.class, () -> SpecParser.parse("""
        name: f
        files:
          doc: {path: doc.md}
          "1x": {text: t}
          ok: {text: t, extra: 1}
        steps:
          - {name: a, prompt: x}
        """)).errors();
    List<String> paths = errors.stream().map(SpecError::path).toList();
    assertTrue(paths.containsAll(List.of("files.doc", "files.1x", "files.ok.extra")), paths.toString());
  }

  @Test
  void aBrokenFirstStageIsAnErrorNotACrash() {
    String spec = """
        name: broken
        models: {m: sim-small}
        stages:
          - oops
          - {name: b, steps: [{name: x, model: m, prompt: "hi"}]}
        """;
    errorAt(spec, "stages[0]");
    errorAt(spec.replace("- oops", "- {steps: [{name: y, model: m, prompt: hi}]}"), "stages[0].name");
  }

  @Test
  void aStagesOwnRetryAndWindowAreReportedAtTheStage() {
    String spec = """
        name: own
        models: {m: sim-small}
        stages:
          - {name: a, steps: [{name: x, model: m, prompt: "hi"}]}
          - {name: b, retry: {max_attempts: 0}, max_in_flight: 0, steps: [{name: y, model: m, prompt: "{{ x }}"}]}
        """;
    List<SpecError> errors = errors(spec);
    assertTrue(errors.stream().anyMatch(e -> e.path().equals("stages[1] (b).retry.max_attempts")), errors.toString());
    assertTrue(errors.stream().anyMatch(e -> e.path().equals("stages[1] (b).max_in_flight")), errors.toString());
    assertFalse(errors.stream().anyMatch(e -> e.path().startsWith("retry") || e.path().startsWith("max_in_flight")), errors.toString());
  }

  @Test
  void aFromThatIsNotANameSaysSo() {
    String spec = STAGED.replace("filter: \"score >= 3\"", "from: [topics]");
    assertTrue(errorAt(spec, "stages[2] (judged).from").message().startsWith("must be the name of an earlier stage"));
  }

  @Test
  void namesLongerThanTheirColumnsAreErrors() {
    String longStage = "s".repeat(Stages.MAX_STAGE_NAME + 1);
    assertTrue(errorAt(STAGED.replace("name: poems", "name: " + longStage), "stages[1] (" + longStage + ").name").message()
        .contains("at most " + Stages.MAX_STAGE_NAME));
    String longName = "n".repeat(SpecParser.MAX_NAME + 1);
    JsonNode tree = SpecParser.readTree("{\"name\": \"" + longName + "\", \"models\": {\"m\": \"sim-small\"},"
        + " \"steps\": [{\"name\": \"a\", \"model\": \"m\", \"prompt\": \"hi\"}]}");
    SpecException e = assertThrows(SpecException.class, () -> SpecParser.parse(tree));
    assertTrue(e.errors().stream().anyMatch(err -> err.path().equals("name") && err.message().contains("at most 200")), e.errors().toString());
  }
}
