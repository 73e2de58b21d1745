package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.skein.protocol.CallId;
import io.skein.protocol.RecordProtocol;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.RecordBlocked;
import io.skein.protocol.RecordProtocol.RecordOutcome;
import io.skein.protocol.RecordProtocol.RecordReport;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.plan.PipelinePlan;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The RecordWorker entity against an in-memory journal and scripted models. */
class RecordWorkerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
  private static final AtomicInteger ids = new AtomicInteger();

  private static final String SPEC = """
      name: three-steps
      models:
        writer: {model: sim-small, temperature: 0.5}
      retry: {max_attempts: 3, initial_backoff: 10ms, max_backoff: 20ms}
      steps:
        - name: draft
          model: writer
          prompt: "DRAFT about {{ topic }}"
        - name: critique
          model: writer
          prompt: "CRITIQUE of {{ draft }}"
        - name: revision
          continue: draft
          prompt: "REVISION using {{ critique }}"
      """;

  private ScriptedModels models;
  private final Map<Long, ResultRow> ledger = new ConcurrentHashMap<>();
  private String jobId;

  @BeforeEach
  void setUp() {
    jobId = "job" + ids.incrementAndGet();
    models = new ScriptedModels(testKit.system(), "gateway-" + jobId);
    ledger.clear();
  }

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  /** The ledger as the real one keeps it: the first row of a record, unless a retried record's row replaces its error row. */
  private ResultSink ledgerSink() {
    return row -> {
      if (row.retried() && ledger.containsKey(row.index()) && !ledger.get(row.index()).succeeded()) {
        ledger.put(row.index(), row);
      }
      ledger.putIfAbsent(row.index(), row);
      return CompletableFuture.completedFuture(Done.getInstance());
    };
  }

  private EventSourcedBehaviorTestKit<RecordProtocol.Command, RecordProtocol.Event, RecordState> worker(long index) {
    return worker(index, SPEC);
  }

  private EventSourcedBehaviorTestKit<RecordProtocol.Command, RecordProtocol.Event, RecordState> worker(long index, String spec) {
    PipelinePlan plan = PipelinePlan.compile(SpecParser.parse(spec), List.of("topic"));
    RecordSource source = (job, i) -> {
      try {
        return CompletableFuture.completedFuture(new RecordContext(plan, RecordInput.of(i, JSON.readTree("{\"id\": \"r" + i + "\", \"topic\": \"tea\"}"))));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    ResultSink sink = ledgerSink();
    var deps = new RecordWorker.Deps(source, sink, models, Duration.ofSeconds(1));
    return EventSourcedBehaviorTestKit.create(testKit.system(),
        RecordWorker.create(RecordProtocol.recordKey(jobId, index), null, deps),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
  }

  /** Progress reports the record sent while it ran, per probe, as {@link #report} skipped them. */
  private final java.util.Map<TestProbe<RecordReport>, java.util.List<RecordProtocol.RecordProgress>> progress = new java.util.HashMap<>();

  /** The next report of this type; the progress reports before it are kept in {@link #progress}. */
  private <T extends RecordReport> T report(TestProbe<RecordReport> probe, Class<T> type, Duration max) {
    java.util.List<RecordReport> got = probe.fishForMessage(max, m -> type.isInstance(m)
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : m instanceof RecordProtocol.RecordProgress ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndCollect()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.fail("unexpected " + m));
    for (RecordReport r : got) {
      if (r instanceof RecordProtocol.RecordProgress p) {
        progress.computeIfAbsent(probe, k -> new java.util.ArrayList<>()).add(p);
      }
    }
    return type.cast(got.get(got.size() - 1));
  }

  private static CallSucceeded result(RecordState state, String step) {
    return state.result(CallId.of(step));
  }

  @Test
  void afterRestartWithFinishedCallsItContinuesAtTheNextCall() {
    var kit = worker(0);
    models.holdWhen("REVISION");
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    // draft and critique finish; revision is sent and never answered: the node "dies" here.
    probe.awaitAssert(() -> {
      assertNotNull(result(kit.getState(), "critique"));
      assertEquals(1, models.sentContaining("REVISION"));
      return null;
    });
    assertEquals(1, models.sentContaining("DRAFT"));
    assertEquals(1, models.sentContaining("CRITIQUE"));

    models.answerWith(s -> ScriptedModels.ok("answer to " + s.lastUserMessage()));
    var restarted = kit.restart();
    assertNotNull(result(restarted.state(), "draft"), "replay restores the finished calls");
    assertNotNull(result(restarted.state(), "critique"));
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));

    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertTrue(outcome.succeeded());
    assertEquals(3, outcome.calls());
    assertEquals(1, models.sentContaining("DRAFT"), "a persisted call is never sent again");
    assertEquals(1, models.sentContaining("CRITIQUE"), "a persisted call is never sent again");
    assertEquals(2, models.sentContaining("REVISION"), "only the unfinished call is sent again");
    var revision = models.sent.get(models.sent.size() - 1);
    assertTrue(revision.lastUserMessage().startsWith("REVISION"), "the first call after the restart is call k+1");
  }

  /**
   * Each journal write is a round trip to the database: a record of three sequential calls makes
   * four, its last answer and its end together, so a crash keeps both or neither.
   */
  @Test
  void theLastAnswerAndTheRecordsEndAreOneWrite() {
    var kit = worker(7);
    String pid = "Record|" + RecordProtocol.recordKey(jobId, 7);
    List<List<String>> writes = new java.util.concurrent.CopyOnWriteArrayList<>();
    kit.persistenceTestKit().withPolicy((persistenceId, op) -> {
      if (persistenceId.equals(pid) && op instanceof org.apache.pekko.persistence.testkit.WriteEvents w) {
        writes.add(w.getBatch().stream().map(e -> e.getClass().getSimpleName()).toList());
      }
      return org.apache.pekko.persistence.testkit.ProcessingSuccess$.MODULE$;
    });
    try {
      TestProbe<RecordReport> probe = testKit.createTestProbe();
      kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
      assertTrue(report(probe, RecordOutcome.class, Duration.ofSeconds(5)).succeeded());
      assertEquals(List.of(List.of("RecordStarted"), List.of("CallSucceeded"), List.of("CallSucceeded"),
          List.of("CallSucceeded", "RecordSucceeded")), writes);
      assertTrue(kit.getState().isSucceeded());
      assertEquals(3, kit.getState().succeeded().size());
    } finally {
      kit.persistenceTestKit().resetPolicy();
    }
  }

  @Test
  void theContinuedStepSendsTheWholeConversationAndTheRowIsShapedFromIt() throws Exception {
    var kit = worker(4);
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    assertTrue(report(probe, RecordOutcome.class, Duration.ofSeconds(5)).succeeded());

    JsonNode body = JSON.readTree(models.sent.stream().filter(s -> s.lastUserMessage().startsWith("REVISION")).findFirst().orElseThrow().body());
    JsonNode messages = body.get("messages");
    assertEquals(3, messages.size());
    assertEquals("DRAFT about tea", messages.get(0).get("content").asText());
    assertEquals("answer to DRAFT about tea", messages.get(1).get("content").asText());
    assertEquals("assistant", messages.get(1).get("role").asText());

    JsonNode row = JSON.readTree(ledger.get(4L).row());
    assertEquals(List.of("id", "topic", "draft", "critique", "revision"), List.copyOf(JSON.convertValue(row, Map.class).keySet()),
        "without output: the id, the input's fields and every step's value, in spec order");
    assertEquals("r4", row.get("id").asText());
    assertEquals("tea", row.get("topic").asText());
    assertEquals("answer to DRAFT about tea", row.get("draft").asText());
    assertEquals("answer to " + messages.get(2).get("content").asText(), row.get("revision").asText());
  }

  @Test
  void retriesArePersistedAttemptsAndSurviveARestart() {
    var kit = worker(1);
    AtomicInteger critiques = new AtomicInteger();
    models.answerWith(s -> {
      if (s.lastUserMessage().startsWith("CRITIQUE") && critiques.incrementAndGet() == 1) {
        return ScriptedModels.status(503);
      }
      if (s.lastUserMessage().startsWith("REVISION")) {
        return new CompletableFuture<>();
      }
      return ScriptedModels.ok("answer to " + s.lastUserMessage());
    });
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    probe.awaitAssert(() -> {
      assertNotNull(result(kit.getState(), "critique"));
      return null;
    });
    List<CallFailed> failures = kit.getState().failures(CallId.of("critique"));
    assertEquals(1, failures.size());
    assertEquals("server_error", failures.get(0).errorType());
    assertEquals(2, result(kit.getState(), "critique").attempt(), "the success is attempt 2");

    models.answerWith(s -> ScriptedModels.ok("answer to " + s.lastUserMessage()));
    var restarted = kit.restart();
    assertEquals(1, restarted.state().failures(CallId.of("critique")).size(), "a crash does not reset the attempts");
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertEquals(4, outcome.calls(), "three successes and one failed attempt");
  }

  @Test
  void aFatalErrorEndsTheRecordAsAnErrorRowWithEveryStepSoFar() throws Exception {
    var kit = worker(2);
    models.answerWith(s -> s.lastUserMessage().startsWith("CRITIQUE") ? ScriptedModels.status(400)
        : ScriptedModels.ok("answer to " + s.lastUserMessage()));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertFalse(outcome.succeeded());
    assertEquals(1, models.sentContaining("CRITIQUE"), "400 is not retried");

    JsonNode row = JSON.readTree(ledger.get(2L).row());
    assertEquals("bad_request", row.at("/error/type").asText());
    assertEquals("critique", row.at("/error/step").asText());
    assertEquals("tea", row.at("/input/topic").asText());
    assertEquals("answer to DRAFT about tea", row.at("/steps/draft").asText());
    assertFalse(row.at("/steps").has("critique"));
  }

  @Test
  void rateLimitsMakeTheRecordWaitAndNeverFailIt() {
    var kit = worker(9);
    AtomicInteger limited = new AtomicInteger();
    models.answerWith(s -> s.lastUserMessage().startsWith("DRAFT") && limited.incrementAndGet() <= 8 ? ScriptedModels.status(429)
        : ScriptedModels.ok("x"));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(10));
    assertTrue(outcome.succeeded(), "eight 429s are not three failed attempts");
    assertEquals(9, models.sentContaining("DRAFT"));
  }

  @Test
  void retriesStopAtTheLimitWithTheLastErrorInTheRow() throws Exception {
    var kit = worker(3);
    models.answerWith(s -> s.lastUserMessage().startsWith("DRAFT") ? ScriptedModels.status(500)
        : ScriptedModels.ok("x"));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertFalse(outcome.succeeded());
    assertEquals(3, models.sentContaining("DRAFT"), "max_attempts: 3");
    JsonNode row = JSON.readTree(ledger.get(3L).row());
    assertEquals("server_error", row.at("/error/type").asText());
    assertTrue(row.at("/error/message").asText().contains("3 attempts"));
    JsonNode detail = JSON.readTree(ledger.get(3L).detail());
    assertEquals(3, detail.at("/calls/0/failures").size());
  }

  @Test
  void aFailedRecordRetriedByItsJobGoesOnFromItsLastAnsweredCallWithItsAttemptsAgain() throws Exception {
    var kit = worker(8);
    java.util.concurrent.atomic.AtomicBoolean fixed = new java.util.concurrent.atomic.AtomicBoolean();
    models.answerWith(s -> s.lastUserMessage().startsWith("CRITIQUE") && !fixed.get() ? ScriptedModels.status(500)
        : ScriptedModels.ok("answer to " + s.lastUserMessage()));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    assertFalse(report(probe, RecordOutcome.class, Duration.ofSeconds(5)).succeeded());
    assertEquals(3, models.sentContaining("CRITIQUE"), "max_attempts spent");
    assertFalse(ledger.get(8L).succeeded());

    // An Ensure that is no retry (or one from before the record failed) gets the same outcome, and nothing is sent.
    int sent = models.sent.size();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef(), 0, 0));
    assertFalse(report(probe, RecordOutcome.class, Duration.ofSeconds(5)).succeeded());
    assertEquals(sent, models.sent.size());

    fixed.set(true);
    long retriedAt = System.currentTimeMillis();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef(), 0, retriedAt));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertTrue(outcome.succeeded(), outcome.toString());
    assertEquals(1, models.sentContaining("DRAFT"), "the answered call is kept, not sent again");
    assertEquals(4, models.sentContaining("CRITIQUE"), "the failed call is sent again, with its attempts forgiven");
    assertEquals(1, models.sentContaining("REVISION"));
    assertEquals(6, outcome.calls(), "the failed attempts still count as calls made");
    assertEquals(4, result(kit.getState(), "critique").attempt(), "attempts are numbered on from before the retry");
    assertEquals(retriedAt, kit.getState().retriedAt());
    ResultRow row = ledger.get(8L);
    assertTrue(row.succeeded() && row.retried(), "the row replaces the error row: " + row);
    assertEquals(4, JSON.readTree(row.detail()).at("/calls/1/attempts").asInt(), "its history keeps the failed attempts");

    // The same retry asked again (a coordinator that restarted) changes nothing.
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef(), 0, retriedAt));
    assertTrue(report(probe, RecordOutcome.class, Duration.ofSeconds(5)).succeeded());
    assertEquals(6, models.sent.size());
  }

  @Test
  void aRefusedKeyBlocksTheRecordWithoutFailingItAndAResumeSendsTheCallAgain() {
    var kit = worker(6);
    java.util.concurrent.atomic.AtomicBoolean keyFixed = new java.util.concurrent.atomic.AtomicBoolean();
    models.answerWith(s -> s.lastUserMessage().startsWith("CRITIQUE") && !keyFixed.get() ? ScriptedModels.status(401)
        : ScriptedModels.ok("answer to " + s.lastUserMessage()));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordBlocked blocked = report(probe, RecordBlocked.class, Duration.ofSeconds(5));
    assertEquals(6, blocked.index());
    assertEquals("writer", blocked.model());
    assertEquals("critique", blocked.step());
    assertEquals("unauthorized", blocked.errorType());
    assertFalse(kit.getState().isTerminal(), "a blocked record has not failed");
    assertNull(ledger.get(6L), "and has no row");

    // An Ensure from before the resume (a periodic one) gets the same report, and nothing is sent.
    int sent = models.sent.size();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    report(probe, RecordBlocked.class, Duration.ofSeconds(5));
    assertEquals(sent, models.sent.size());

    keyFixed.set(true);
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef(), System.currentTimeMillis() + 1));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertTrue(outcome.succeeded());
    assertEquals(1, models.sentContaining("DRAFT"), "the answer from before the pause is kept");
    assertEquals(2, models.sentContaining("CRITIQUE"));
    assertEquals(1, models.sentContaining("REVISION"));
  }

  @Test
  void anEndedRecordReportsAgainWithoutCallingAnyModel() {
    var kit = worker(5);
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    int calls = models.sent.size();
    ledger.clear();

    // The ended record stopped itself; the same entity starts again from its journal.
    List<Object> journal = kit.persistenceTestKit().persistedInStorage("Record|" + RecordProtocol.recordKey(jobId, 5));
    var again = worker(5);
    again.initialize(journal.toArray());
    again.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertTrue(outcome.succeeded());
    assertEquals(3, outcome.calls());
    assertEquals(calls, models.sent.size());
    assertNotNull(ledger.get(5L), "the row is written again if the ledger lost it");
  }

  /** Renders past the output budget: checks pass, the render fails. */
  private static final String TOO_BIG = "\"{% for i in range(1000) %}{% for j in range(1000) %}{{ draft }}{% endfor %}{% endfor %}\"";

  @Test
  void aDatasetThatFailsToRenderFailsTheRecordWithARowNamingIt() {
    var kit = worker(6, SPEC + "processors:\n  - {name: sft, template: {prompt: " + TOO_BIG + "}}\n");
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertFalse(outcome.succeeded());
    ResultRow row = ledger.get(6L);
    assertNotNull(row, "an error row, not none");
    assertFalse(row.succeeded());
    assertTrue(row.row().contains("template_error") && row.row().contains("sft"), row.row());
  }

  @Test
  void aSucceededJournalWhoseRowNoLongerRendersStillEndsWithARow() {
    var kit = worker(7);
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    assertTrue(report(probe, RecordOutcome.class, Duration.ofSeconds(5)).succeeded());
    ledger.clear();

    // The same journal under a spec whose output now fails (an upgrade, a changed template): the
    // record has succeeded, but the row it would write cannot be rendered.
    List<Object> journal = kit.persistenceTestKit().persistedInStorage("Record|" + RecordProtocol.recordKey(jobId, 7));
    var again = worker(7, SPEC + "output:\n  fields: {x: " + TOO_BIG + "}\n");
    again.initialize(journal.toArray());
    again.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertFalse(outcome.succeeded(), "reported as the row says");
    ResultRow row = ledger.get(7L);
    assertNotNull(row, "the record writes an error row instead of none");
    assertTrue(row.row().contains("template_error") && row.row().contains("output"), row.row());
  }

  @Test
  void aRecordItsJobDoesNotKnowAnswersWithAnErrorRowInsteadOfStoppingSilently() {
    RecordSource none = (job, i) -> CompletableFuture.failedFuture(new RecordSource.UnknownJobException("no job " + job));
    ResultSink sink = ledgerSink();
    var kit = EventSourcedBehaviorTestKit.<RecordProtocol.Command, RecordProtocol.Event, RecordState>create(testKit.system(),
        RecordWorker.create(RecordProtocol.recordKey(jobId, 8), null, new RecordWorker.Deps(none, sink, models, Duration.ofSeconds(1))),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(5));
    assertFalse(outcome.succeeded());
    assertTrue(ledger.get(8L).row().contains("unknown_record") && ledger.get(8L).row().contains("no job " + jobId), ledger.get(8L).row());
    assertEquals(0, models.sent.size());
  }

  @Test
  void aCallItsGatewayLostIsWithdrawnAndAskedAgainAfterTheDeadline() {
    // A gateway that drops the first call it gets (as one restarted after a failure loses its queue).
    java.util.concurrent.atomic.AtomicBoolean dropped = new java.util.concurrent.atomic.AtomicBoolean();
    var lossy = testKit.spawn(org.apache.pekko.actor.typed.javadsl.Behaviors.<io.skein.worker.gateway.ModelGateway.Command>receive(
        (ctx, msg) -> {
          if (!(msg instanceof io.skein.worker.gateway.ModelGateway.Call) || !dropped.compareAndSet(false, true)) {
            models.gateway("any").tell(msg);
          }
          return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
        }));
    io.skein.worker.gateway.ModelAccess access = new io.skein.worker.gateway.ModelAccess() {
      @Override
      public io.skein.worker.gateway.Provider provider(String model) {
        return models.provider(model);
      }

      @Override
      public org.apache.pekko.actor.typed.ActorRef<io.skein.worker.gateway.ModelGateway.Command> gateway(String model) {
        return lossy;
      }
    };
    PipelinePlan plan = PipelinePlan.compile(SpecParser.parse(SPEC), List.of("topic"));
    RecordSource source = (job, i) -> CompletableFuture.completedFuture(
        new RecordContext(plan, RecordInput.of(i, JSON.createObjectNode().put("id", "r" + i).put("topic", "tea"))));
    ResultSink sink = ledgerSink();
    var deps = new RecordWorker.Deps(source, sink, access, Duration.ofSeconds(1), CallTimer.NONE, Duration.ofMillis(300), Duration.ofMillis(300));
    var kit = EventSourcedBehaviorTestKit.<RecordProtocol.Command, RecordProtocol.Event, RecordState>create(testKit.system(),
        RecordWorker.create(RecordProtocol.recordKey(jobId, 10), null, deps),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(10));
    assertTrue(outcome.succeeded(), "the record did not wait for ever on the lost call");
    assertTrue(dropped.get());
    assertEquals(1, models.sentContaining("DRAFT"), "the lost call never reached the provider; its second sending did");
    assertEquals(3, outcome.calls());
  }

  @Test
  void templatesWithBlocksRenderOffTheRecordsThreadSoItAnswersWhileALoopRunsOutItsBudget() {
    // draft's prompt loops (a block): its plan is made on the template threads.
    var looping = worker(12, SPEC.replace("prompt: \"DRAFT about {{ topic }}\"",
        "prompt: \"DRAFT about {% for i in range(3) %}{{ topic }}{% endfor %}\""));
    models.answerWith(s -> ScriptedModels.ok("answer to " + s.lastUserMessage()));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    looping.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordOutcome outcome = report(probe, RecordOutcome.class, Duration.ofSeconds(10));
    assertTrue(outcome.succeeded());
    assertEquals(3, outcome.calls());
    assertEquals(1, models.sentContaining("DRAFT about teateatea"), "the looped prompt was rendered and sent");

    // A prompt whose nested loops run out the render budget: while it renders, the record still answers.
    var hostile = worker(13, SPEC.replace("prompt: \"CRITIQUE of {{ draft }}\"",
        "prompt: \"{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}\""));
    TestProbe<RecordReport> second = testKit.createTestProbe();
    hostile.runCommand(new RecordProtocol.Ensure(second.getRef()));
    second.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(1, models.sentContaining("DRAFT about tea"));
      return null;
    });
    long start = System.nanoTime();
    hostile.getState();
    long answeredMs = (System.nanoTime() - start) / 1_000_000;
    assertTrue(answeredMs < 500, "the record answered in " + answeredMs + " ms while its template rendered");
    RecordOutcome failed = report(second, RecordOutcome.class, Duration.ofSeconds(10));
    assertFalse(failed.succeeded());
    assertEquals(StepPlanner.TEMPLATE_ERROR, ledger.get(13L) == null ? null : errorType(ledger.get(13L)));
  }

  private static String errorType(ResultRow row) {
    try {
      return JSON.readTree(row.row()).at("/error/type").asText();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aProviderUnavailablePastPauseAfterBlocksTheRecordWithoutSpendingItsAttempts() {
    var kit = worker(11, SPEC.replace("max_backoff: 20ms}", "max_backoff: 20ms, pause_after: 300ms}"));
    models.answerWith(s -> ScriptedModels.status(503));
    TestProbe<RecordReport> probe = testKit.createTestProbe();
    kit.runCommand(new RecordProtocol.Ensure(probe.getRef()));
    RecordBlocked blocked = report(probe, RecordBlocked.class, Duration.ofSeconds(10));
    assertEquals("provider_unavailable", blocked.errorType());
    assertTrue(blocked.message().contains("unavailable for"), blocked.message());
    assertTrue(models.sentContaining("DRAFT") > 3, "503s spend no attempt: more than max_attempts were sent");
    assertNull(ledger.get(11L), "the record has not failed");
    probe.expectNoMessage(Duration.ofMillis(100));
    var reports = progress.getOrDefault(probe, java.util.List.of());
    assertTrue(reports.size() > 1, "it said it started, then what it waits for: " + reports);
    assertEquals(new RecordProtocol.RecordProgress("job9", 11, 0, 0, null), reports.get(0), "started, before any call");
    assertTrue(reports.stream().skip(1).allMatch(p -> p.waitingFor() != null
        && p.waitingFor().startsWith("model `sim-small` is unavailable (HTTP 503) since")), "while it waits it says for what: " + reports);
  }
}
