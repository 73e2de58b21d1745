package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.RecordStarted;
import io.skein.protocol.Usage;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.entity.StepPlanner.Blocked;
import io.skein.worker.entity.StepPlanner.Decision;
import io.skein.worker.entity.StepPlanner.Fail;
import io.skein.worker.entity.StepPlanner.Finish;
import io.skein.worker.entity.StepPlanner.PlannedCall;
import io.skein.worker.entity.StepPlanner.Proceed;
import io.skein.worker.gateway.Provider;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.plan.PipelinePlanTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StepPlannerTest {

  private static final PipelinePlan PLAN = PipelinePlan.compile(SpecParser.parse(PipelinePlanTest.EXAMPLE
      .replace("steps:", "retry: {max_attempts: 3, initial_backoff: 1s, max_backoff: 10s}\nsteps:")), List.of("topic"));
  private static final long NOW = 1_000_000;

  private final RecordInput input = input("{\"id\": \"r1\", \"topic\": \"tea\"}");
  private final RecordState state = new RecordState().apply(new RecordStarted(1));

  private static RecordInput input(String json) {
    try {
      return RecordInput.of(4, new ObjectMapper().readTree(json));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private Decision next(Set<CallId> inFlight, Map<CallId, Long> notBefore, long now) {
    return StepPlanner.next(PLAN, input, state, inFlight, notBefore, now, 0);
  }

  private Decision next() {
    return next(Set.of(), Map.of(), NOW);
  }

  private List<String> planned(Decision d) {
    return assertInstanceOf(Proceed.class, d).calls().stream().map(c -> c.id().step()).toList();
  }

  private void answered(String step, String text) {
    PlannedCall call = assertInstanceOf(Proceed.class, next()).calls().stream()
        .filter(c -> c.id().step().equals(step)).findFirst().orElseThrow();
    state.apply(new CallSucceeded(call.id(), call.attempt(), "fp-" + step, "node", "sim-small", call.newMessages(), text, "stop",
        new Usage(1, 1), 5, NOW, false));
  }

  private void failed(String step, boolean retryable, long retryAfter, long at) {
    CallId id = CallId.of(step);
    int attempt = state.failures(id).size() + 1;
    state.apply(new CallFailed(id, attempt, "fp-" + step, "node", retryable ? "server_error" : "context_length_exceeded", retryable,
        retryable ? 500 : 400, "boom", retryAfter, 3, at));
  }

  private void refused(String step, long at) {
    CallId id = CallId.of(step);
    state.apply(new CallFailed(id, state.failures(id).size() + 1, "fp-" + step, "node", "unauthorized", false, 401,
        "HTTP 401: invalid_api_key", 0, 3, at));
  }

  @Test
  void aFreshRecordStartsWithTheStepsThatNeedNothing() {
    assertEquals(List.of("question"), planned(next()));
    PlannedCall q = assertInstanceOf(Proceed.class, next()).calls().get(0);
    assertEquals(List.of(ChatMessage.system("You are a customer writing to support."), ChatMessage.user("Write a question about tea.")),
        q.messages());
    assertEquals(1, q.attempt());
  }

  @Test
  void readyStepsRunTogetherWithTheAnswersTheyRead() {
    answered("question", "Why is my tea cold?");
    Proceed p = assertInstanceOf(Proceed.class, next());
    assertEquals(List.of("answer", "tone"), p.calls().stream().map(c -> c.id().step()).toList());
    assertEquals(List.of(ChatMessage.user("Why is my tea cold?")), p.calls().get(0).messages(),
        "answer starts its own conversation: no system message from question");
    assertEquals("Rate the tone of: Why is my tea cold?", p.calls().get(1).messages().get(0).content());
  }

  @Test
  void callsInFlightAreNotPlannedAgain() {
    answered("question", "Q?");
    assertEquals(List.of("tone"), planned(next(Set.of(CallId.of("answer")), Map.of(), NOW)));
    assertEquals(List.of(), planned(next(Set.of(CallId.of("answer"), CallId.of("tone")), Map.of(), NOW)));
  }

  @Test
  void aContinuedStepSendsTheWholeConversation() {
    answered("question", "Q?");
    answered("answer", "A.");
    answered("tone", "polite");
    PlannedCall followup = assertInstanceOf(Proceed.class, next()).calls().get(0);
    assertEquals("followup", followup.id().step());
    assertEquals(List.of(ChatMessage.user("Q?"), ChatMessage.assistant("A."), ChatMessage.user("Can you give an example?")),
        followup.messages());
    assertEquals(List.of(ChatMessage.user("Can you give an example?")), followup.newMessages(), "only the new turn is stored");
    answered("followup", "For example...");
    assertInstanceOf(Finish.class, next());
  }

  @Test
  void aFailedCallWaitsForItsBackoffThenTriesWithTheNextAttempt() {
    failed("question", true, 0, NOW);
    Proceed waiting = assertInstanceOf(Proceed.class, next());
    assertEquals(List.of(), waiting.calls());
    assertTrue(waiting.wakeAt() > NOW && waiting.wakeAt() <= NOW + 1000, "backoff within [0.5, 1] x 1s: " + waiting.wakeAt());
    Proceed ready = assertInstanceOf(Proceed.class, next(Set.of(), Map.of(), waiting.wakeAt()));
    assertEquals(2, ready.calls().get(0).attempt());
  }

  @Test
  void backoffGrowsAndHonoursRetryAfter() {
    failed("question", true, 0, NOW);
    failed("question", true, 0, NOW);
    long second = assertInstanceOf(Proceed.class, next()).wakeAt() - NOW;
    assertTrue(second >= 1000 && second <= 2000, "second backoff in [1, 2] s: " + second);
    RecordState other = new RecordState().apply(new RecordStarted(1));
    other.apply(new CallFailed(CallId.of("question"), 1, "fp", "node", "rate_limited", true, 429, "slow down", 7000, 1, NOW));
    long wait = assertInstanceOf(Proceed.class, StepPlanner.next(PLAN, input, other, Set.of(), Map.of(), NOW, 0)).wakeAt() - NOW;
    assertEquals(7000, wait, "Retry-After is honoured when longer than the backoff");
  }

  @Test
  void theScheduleSurvivesReplayBecauseItComesFromTheEvents() {
    failed("question", true, 0, NOW);
    long first = assertInstanceOf(Proceed.class, next()).wakeAt();
    RecordState replayed = new RecordState().apply(new RecordStarted(1));
    state.allFailures().values().forEach(list -> list.forEach(replayed::apply));
    assertEquals(first, assertInstanceOf(Proceed.class, StepPlanner.next(PLAN, input, replayed, Set.of(), Map.of(), NOW, 0)).wakeAt());
  }

  @Test
  void notSentCallsWaitWithoutSpendingAnAttempt() {
    Proceed p = assertInstanceOf(Proceed.class, next(Set.of(), Map.of(CallId.of("question"), NOW + 500), NOW));
    assertEquals(List.of(), p.calls());
    assertEquals(NOW + 500, p.wakeAt());
    assertEquals(1, assertInstanceOf(Proceed.class, next(Set.of(), Map.of(CallId.of("question"), NOW + 500), NOW + 500))
        .calls().get(0).attempt());
  }

  @Test
  void aFatalErrorOrTheLastAttemptFailsTheRecord() {
    failed("question", false, 0, NOW);
    Fail fatal = assertInstanceOf(Fail.class, next());
    assertEquals("context_length_exceeded", fatal.errorType());
    assertEquals("question", fatal.step());

    RecordState exhausted = new RecordState().apply(new RecordStarted(1));
    for (int i = 1; i <= 3; i++) {
      exhausted.apply(new CallFailed(CallId.of("question"), i, "fp", "node", "server_error", true, 500, "boom", 0, 1, NOW));
    }
    Fail gaveUp = assertInstanceOf(Fail.class, StepPlanner.next(PLAN, input, exhausted, Set.of(), Map.of(), NOW + 100_000, 0));
    assertEquals("server_error", gaveUp.errorType());
    assertTrue(gaveUp.message().startsWith("gave up after 3 attempts"), gaveUp.message());
  }

  @Test
  void aRefusalThatBlocksTheJobWaitsForAResumeAndCostsNoAttempt() {
    refused("question", NOW);
    Blocked blocked = assertInstanceOf(Blocked.class, next());
    assertEquals("unauthorized", blocked.errorType());
    assertEquals("question", blocked.step());
    assertEquals("writer", blocked.model());
    assertInstanceOf(Blocked.class, StepPlanner.next(PLAN, input, state, Set.of(), Map.of(), NOW + 60_000, NOW),
        "a resume before the refusal changes nothing");

    // Resumed after the refusal: the call goes again at once, as the second attempt.
    Proceed again = assertInstanceOf(Proceed.class, StepPlanner.next(PLAN, input, state, Set.of(), Map.of(), NOW + 5, NOW + 1));
    assertEquals(List.of("question"), again.calls().stream().map(c -> c.id().step()).toList());
    assertEquals(2, again.calls().get(0).attempt());

    // Refused three times across resumes, then two server errors: still retried (max_attempts 3 counts only the errors).
    refused("question", NOW + 10);
    refused("question", NOW + 20);
    failed("question", true, 0, NOW + 30);
    failed("question", true, 0, NOW + 40);
    Proceed retried = assertInstanceOf(Proceed.class, StepPlanner.next(PLAN, input, state, Set.of(), Map.of(), NOW + 100_000, NOW + 25));
    assertEquals(6, retried.calls().get(0).attempt());
    failed("question", true, 0, NOW + 50);
    assertInstanceOf(Fail.class, StepPlanner.next(PLAN, input, state, Set.of(), Map.of(), NOW + 100_000, NOW + 25));
  }

  @Test
  void badInputAndMissingFieldsFailTheRecord() {
    Fail invalid = assertInstanceOf(Fail.class,
        StepPlanner.next(PLAN, RecordInput.invalid(2, "line 3: malformed JSON"), state, Set.of(), Map.of(), NOW, 0));
    assertEquals("invalid_input", invalid.errorType());
    Fail missing = assertInstanceOf(Fail.class, StepPlanner.next(PLAN, input("{\"id\": 1}"), state, Set.of(), Map.of(), NOW, 0));
    assertEquals(StepPlanner.TEMPLATE_ERROR, missing.errorType());
    assertEquals("question", missing.step());
    assertTrue(missing.message().contains("topic"), missing.message());
  }

  @Test
  void requestsAreDeterministicPerCall() {
    Provider provider = new Provider("sim", "http://sim/v1", null, "sim-small", 8, Duration.ofSeconds(5));
    PlannedCall q = assertInstanceOf(Proceed.class, next()).calls().get(0);
    var a = CallRequests.build("job/4", 4, 0, q.id(), 1, q.model(), provider, q.messages(), null, true);
    var b = CallRequests.build("job/4", 4, 0, q.id(), 2, q.model(), provider, q.messages(), null, true);
    var other = CallRequests.build("job/5", 5, 0, q.id(), 1, q.model(), provider, q.messages(), null, true);
    var otherJob = CallRequests.build("job-2/4", 4, 0, q.id(), 1, q.model(), provider, q.messages(), null, true);
    assertEquals(a.body(), b.body(), "an attempt is the same request");
    assertEquals(a.fingerprint(), b.fingerprint());
    assertNotEquals(a.body(), other.body(), "another record asks with another seed");
    assertNotEquals(a.fingerprint(), other.fingerprint());
    assertNotEquals(a.cacheKey(), other.cacheKey());
    assertEquals(a.cacheKey(), otherJob.cacheKey(), "the same question from another job finds the same cached answer");
    assertNotEquals(a.fingerprint(), otherJob.fingerprint(), "but it is another call");
    var elsewhere = CallRequests.build("job/4", 4, 0, q.id(), 1, q.model(),
        new Provider("sim", "http://other/v1", null, "sim-small", 8, Duration.ofSeconds(5)), q.messages(), null, true);
    assertNotEquals(a.cacheKey(), elsewhere.cacheKey(), "another endpoint is another cache entry");
    assertEquals(null, CallRequests.build("job/4", 4, 0, q.id(), 1, q.model(), provider, q.messages(), null, false).cacheKey());
    assertTrue(a.body().contains("\"temperature\":0.8"), a.body());
  }

  private ResultRow success(RecordContext ctx) {
    return Rows.success("job", ctx, state, Rows.render(ctx, state));
  }

  @Test
  void rowsUseTheRecordIdOrItsIndex() throws Exception {
    answered("question", "Q?");
    answered("answer", "A.");
    answered("tone", "ok");
    answered("followup", "F.");
    ObjectMapper json = new ObjectMapper();
    var row = json.readTree(success(new RecordContext(PLAN, input)).row());
    assertEquals("r1", row.get("id").asText());
    assertEquals("Q?", row.at("/messages/0/content").asText());
    assertEquals("A.", row.at("/messages/1/content").asText());
    RecordInput noId = input("{\"topic\": \"tea\"}");
    assertEquals(4, json.readTree(success(new RecordContext(PLAN, noId)).row()).get("id").asInt());
  }
}
