package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.protocol.CallId;
import io.skein.protocol.Usage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ModelGatewayTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static Provider provider(int concurrency) {
    return new Provider("p", "http://p.invalid/v1", null, "m", concurrency, Duration.ofSeconds(5));
  }

  private static ModelRequest request(int i) {
    return new ModelRequest("job/" + i, CallId.of("s"), 1, "m", "{\"i\":" + i + "}", "fp" + i, 100);
  }

  @Test
  void callsBeyondTheConcurrencyLimitWaitTheirTurn() {
    List<CompletableFuture<ModelOutcome>> held = new CopyOnWriteArrayList<>();
    ModelClient client = (p, body) -> {
      CompletableFuture<ModelOutcome> f = new CompletableFuture<>();
      held.add(f);
      return f;
    };
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(2), client, ModelGateway.Settings.DEFAULT));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < 5; i++) {
      gateway.tell(new ModelGateway.Call(request(i), probe.getRef()));
    }
    probe.awaitAssert(() -> {
      assertEquals(2, held.size());
      return null;
    });
    probe.expectNoMessage(Duration.ofMillis(100));
    assertEquals(2, held.size(), "no more than the limit are sent");
    held.get(0).complete(new ModelOutcome.Ok("a", "stop", Usage.NONE, 1));
    assertEquals("job/0", probe.expectMessageClass(ModelGateway.Reply.class).request().recordKey());
    probe.awaitAssert(() -> {
      assertEquals(3, held.size(), "a finished call frees a slot for the next in line");
      return null;
    });
  }

  @Test
  void eachNodeTakesItsShareOfTheClusterWideLimit() {
    List<CompletableFuture<ModelOutcome>> held = new CopyOnWriteArrayList<>();
    ModelClient client = (p, body) -> {
      CompletableFuture<ModelOutcome> f = new CompletableFuture<>();
      held.add(f);
      return f;
    };
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(9), client, ModelGateway.Settings.DEFAULT, 3, ResponseCache.NONE));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < 10; i++) {
      gateway.tell(new ModelGateway.Call(request(i), probe.getRef()));
    }
    probe.awaitAssert(() -> {
      assertEquals(3, held.size(), "a third of 9 in a cluster of 3");
      return null;
    });
    gateway.tell(new ModelGateway.Resize(1));
    probe.awaitAssert(() -> {
      assertEquals(9, held.size(), "all 9 once the others are gone");
      return null;
    });
  }

  @Test
  void aRequestBudgetPacesSending() {
    AtomicInteger sent = new AtomicInteger();
    ModelClient client = (p, body) -> {
      sent.incrementAndGet();
      return CompletableFuture.completedFuture(new ModelOutcome.Ok("x", "stop", Usage.NONE, 1));
    };
    Provider paced = new Provider("p", "http://p.invalid/v1", null, "m", 100, Duration.ofSeconds(5), 600, 0);
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(paced, client, ModelGateway.Settings.DEFAULT, 2, ResponseCache.NONE));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    long start = System.nanoTime();
    for (int i = 0; i < 13; i++) {
      gateway.tell(new ModelGateway.Call(request(i), probe.getRef()));
    }
    for (int i = 0; i < 13; i++) {
      probe.expectMessageClass(ModelGateway.Reply.class, Duration.ofSeconds(5));
    }
    long elapsed = (System.nanoTime() - start) / 1_000_000;
    // Half of 600/min is 5/s with a 10-request burst: the 13th request waits ~600 ms.
    assertTrue(elapsed >= 500, "paced: " + elapsed + " ms");
    assertEquals(13, sent.get());
  }

  @Test
  void anIdleGatewayStopsAndOneWithACallInFlightDoesNot() {
    var settings = new ModelGateway.Settings(50, Duration.ofSeconds(5), 100, Duration.ofMillis(300));
    AtomicInteger stopped = new AtomicInteger();
    ActorRef<ModelGateway.Command> idle = testKit.spawn(ModelGateway.create(provider(1),
        (p, body) -> CompletableFuture.completedFuture(new ModelOutcome.Ok("ok", "stop", new Usage(1, 1), 1)),
        settings, 1, ResponseCache.NONE, stopped::incrementAndGet));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    idle.tell(new ModelGateway.Call(request(1), probe.getRef()));
    assertInstanceOf(ModelOutcome.Ok.class, probe.expectMessageClass(ModelGateway.Reply.class).outcome());
    probe.expectTerminated(idle, Duration.ofSeconds(5));
    assertEquals(1, stopped.get(), "it said it stops, so its owner forgets it");

    CompletableFuture<ModelOutcome> never = new CompletableFuture<>();
    ActorRef<ModelGateway.Command> busy = testKit.spawn(ModelGateway.create(provider(1), (p, body) -> never, settings, 1,
        ResponseCache.NONE, stopped::incrementAndGet));
    busy.tell(new ModelGateway.Call(request(2), probe.getRef()));
    probe.expectNoMessage(Duration.ofMillis(1200));
    never.complete(new ModelOutcome.Ok("late", "stop", new Usage(1, 1), 1));
    assertEquals("late", ((ModelOutcome.Ok) probe.expectMessageClass(ModelGateway.Reply.class).outcome()).text(),
        "a gateway with a call in flight stays past the idle time and answers it");
    probe.expectTerminated(busy, Duration.ofSeconds(5));
    assertEquals(2, stopped.get());
  }

  @Test
  void aStoppingRecordWithdrawsItsWaitingCalls() {
    ModelClient never = (p, body) -> new CompletableFuture<>();
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(1), never, ModelGateway.Settings.DEFAULT));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    gateway.tell(new ModelGateway.Call(request(1), probe.getRef()));
    gateway.tell(new ModelGateway.Call(request(2), probe.getRef()));
    gateway.tell(new ModelGateway.Cancel(probe.getRef()));
    ModelGateway.Reply reply = probe.expectMessageClass(ModelGateway.Reply.class);
    assertEquals("job/2", reply.request().recordKey(), "only the waiting call is withdrawn; the sent one is in flight");
    assertInstanceOf(ModelOutcome.NotSent.class, reply.outcome());
    probe.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void theBreakerOpensAfterConsecutiveServerFailuresAndClosesAgain() {
    AtomicInteger sent = new AtomicInteger();
    ModelClient failing = (p, body) -> {
      sent.incrementAndGet();
      return CompletableFuture.completedFuture(ModelOutcome.Errors.fromStatus(503, "down", 0, 1));
    };
    var settings = new ModelGateway.Settings(3, Duration.ofMillis(300), 100);
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(1), failing, settings));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < 3; i++) {
      gateway.tell(new ModelGateway.Call(request(i), probe.getRef()));
      assertInstanceOf(ModelOutcome.Failed.class, probe.expectMessageClass(ModelGateway.Reply.class).outcome());
    }
    gateway.tell(new ModelGateway.Call(request(9), probe.getRef()));
    ModelOutcome.NotSent notSent = assertInstanceOf(ModelOutcome.NotSent.class, probe.expectMessageClass(ModelGateway.Reply.class).outcome());
    assertTrue(notSent.delayMillis() > 0 && notSent.delayMillis() <= 300);
    assertEquals(3, sent.get(), "an open breaker sends nothing");

    probe.awaitAssert(Duration.ofSeconds(3), () -> {
      gateway.tell(new ModelGateway.Call(request(10), probe.getRef()));
      assertFalse(probe.expectMessageClass(ModelGateway.Reply.class).outcome() instanceof ModelOutcome.NotSent);
      return null;
    });
    assertEquals(4, sent.get(), "after open-for the breaker lets calls through again");
  }

  @Test
  void statusesAreClassifiedForTheRetryPolicy() {
    assertEquals("rate_limited", ModelOutcome.Errors.fromStatus(429, "", 2000, 1).errorType());
    assertEquals(2000, ModelOutcome.Errors.fromStatus(429, "", 2000, 1).retryAfterMillis());
    assertTrue(ModelOutcome.Errors.fromStatus(502, "", 0, 1).retryable());
    assertTrue(ModelOutcome.Errors.fromStatus(408, "", 0, 1).retryable());
    for (int fatal : new int[] {401, 403, 404, 400, 422}) {
      assertFalse(ModelOutcome.Errors.fromStatus(fatal, "", 0, 1).retryable(), "HTTP " + fatal);
    }
    assertEquals("context_length_exceeded",
        ModelOutcome.Errors.fromStatus(400, "{\"error\":{\"code\":\"context_length_exceeded\"}}", 0, 1).errorType());
  }

  @Test
  void aSmallJobIsNotQueuedBehindALargeOne() {
    List<String> sent = new CopyOnWriteArrayList<>();
    List<CompletableFuture<ModelOutcome>> held = new CopyOnWriteArrayList<>();
    ModelClient client = (p, body) -> {
      sent.add(body);
      CompletableFuture<ModelOutcome> f = new CompletableFuture<>();
      held.add(f);
      return f;
    };
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(1), client, ModelGateway.Settings.DEFAULT));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < 50; i++) {
      gateway.tell(new ModelGateway.Call(new ModelRequest("job-big/" + i, CallId.of("s"), 1, "m", "big-" + i, "fb" + i, 10), probe.getRef()));
    }
    for (int i = 0; i < 3; i++) {
      gateway.tell(new ModelGateway.Call(new ModelRequest("job-small/" + i, CallId.of("s"), 1, "m", "small-" + i, "fs" + i, 10), probe.getRef()));
    }
    for (int answered = 0; answered < 8; answered++) {
      int n = answered + 1;
      probe.awaitAssert(() -> {
        assertEquals(n, held.size());
        return null;
      });
      held.get(answered).complete(new ModelOutcome.Ok("a", "stop", Usage.NONE, 1));
      probe.expectMessageClass(ModelGateway.Reply.class);
    }
    assertEquals(List.of("big-0", "big-1", "small-0", "big-2", "small-1", "big-3", "small-2", "big-4"), sent.subList(0, 8),
        "turns alternate between the jobs, and each job's calls keep their order");
  }

  /** A cache in memory whose lookups answer when the test says. */
  private static final class HeldCache implements ResponseCache {
    final java.util.Map<String, ModelOutcome.Ok> kept = new java.util.concurrent.ConcurrentHashMap<>();
    final List<CompletableFuture<java.util.Optional<ModelOutcome.Ok>>> lookups = new CopyOnWriteArrayList<>();
    volatile boolean hold;

    @Override
    public java.util.concurrent.CompletionStage<java.util.Optional<ModelOutcome.Ok>> get(String key) {
      ModelOutcome.Ok ok = kept.get(key);
      java.util.Optional<ModelOutcome.Ok> hit = java.util.Optional.ofNullable(ok == null ? null
          : new ModelOutcome.Ok(ok.text(), ok.finishReason(), ok.usage(), 0, true));
      CompletableFuture<java.util.Optional<ModelOutcome.Ok>> f = new CompletableFuture<>();
      lookups.add(f);
      if (!hold) {
        f.complete(hit);
      }
      return f;
    }

    @Override
    public void put(String key, ModelOutcome.Ok answer) {
      kept.putIfAbsent(key, answer);
    }
  }

  private static ModelRequest cacheable(String recordKey, String key) {
    return new ModelRequest(recordKey, CallId.of("s"), 1, "m", "{\"q\":\"" + key + "\"}", "fp-" + recordKey, 100, key, null);
  }

  @Test
  void anAnswerIsKeptAndAnIdenticalRequestIsAnsweredFromTheCacheWithoutASlot() {
    HeldCache cache = new HeldCache();
    AtomicInteger sent = new AtomicInteger();
    List<CompletableFuture<ModelOutcome>> held = new CopyOnWriteArrayList<>();
    ModelClient client = (p, body) -> {
      sent.incrementAndGet();
      CompletableFuture<ModelOutcome> f = new CompletableFuture<>();
      held.add(f);
      return f;
    };
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(1), client, ModelGateway.Settings.DEFAULT, 1, cache));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    gateway.tell(new ModelGateway.Call(cacheable("job-a/1", "k1"), probe.getRef()));
    probe.awaitAssert(() -> {
      assertEquals(1, held.size());
      return null;
    });
    held.get(0).complete(new ModelOutcome.Ok("the answer", "stop", new Usage(7, 3), 40));
    ModelOutcome.Ok first = assertInstanceOf(ModelOutcome.Ok.class, probe.expectMessageClass(ModelGateway.Reply.class).outcome());
    assertFalse(first.cached());
    assertEquals("the answer", cache.kept.get("k1").text(), "the provider's answer is kept");

    // Hold the only slot with another call: the identical request is still answered, from the cache.
    gateway.tell(new ModelGateway.Call(cacheable("job-a/2", "k2"), probe.getRef()));
    probe.awaitAssert(() -> {
      assertEquals(2, held.size());
      return null;
    });
    gateway.tell(new ModelGateway.Call(cacheable("job-b/1", "k1"), probe.getRef()));
    ModelGateway.Reply again = probe.expectMessageClass(ModelGateway.Reply.class);
    assertEquals("job-b/1", again.request().recordKey());
    ModelOutcome.Ok cached = assertInstanceOf(ModelOutcome.Ok.class, again.outcome());
    assertTrue(cached.cached());
    assertEquals("the answer", cached.text());
    assertEquals(new Usage(7, 3), cached.usage());
    assertEquals(2, sent.get(), "the cached answer was not asked for");
  }

  @Test
  void aRecordThatStopsWhileItsCallIsLookedUpHasNothingSent() {
    HeldCache cache = new HeldCache();
    cache.hold = true;
    AtomicInteger sent = new AtomicInteger();
    ModelClient client = (p, body) -> {
      sent.incrementAndGet();
      return CompletableFuture.completedFuture(new ModelOutcome.Ok("x", "stop", Usage.NONE, 1));
    };
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(4), client, ModelGateway.Settings.DEFAULT, 1, cache));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    gateway.tell(new ModelGateway.Call(cacheable("job-a/1", "k9"), probe.getRef()));
    probe.awaitAssert(() -> {
      assertEquals(1, cache.lookups.size());
      return null;
    });
    gateway.tell(new ModelGateway.Cancel(probe.getRef()));
    cache.lookups.get(0).complete(java.util.Optional.empty());
    assertInstanceOf(ModelOutcome.NotSent.class, probe.expectMessageClass(ModelGateway.Reply.class).outcome());
    assertEquals(0, sent.get());
  }

  @Test
  void concurrencyAdaptsToAProviderThatTakesLessThanTheConfiguredLimit() throws Exception {
    int capacity = 8;
    AtomicInteger busy = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    var timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    ModelClient client = (p, body) -> {
      if (busy.incrementAndGet() > capacity) {
        busy.decrementAndGet();
        refused.incrementAndGet();
        return CompletableFuture.completedFuture(ModelOutcome.Errors.fromStatus(429, "{\"error\":\"busy\"}", 0, 1));
      }
      CompletableFuture<ModelOutcome> f = new CompletableFuture<>();
      timer.schedule(() -> {
        busy.decrementAndGet();
        f.complete(new ModelOutcome.Ok("ok", "stop", Usage.NONE, 5));
      }, 5, java.util.concurrent.TimeUnit.MILLISECONDS);
      return f;
    };
    try {
      ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(64), client, ModelGateway.Settings.DEFAULT));
      TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
      int calls = 400;
      for (int i = 0; i < calls; i++) {
        gateway.tell(new ModelGateway.Call(request(i), probe.getRef()));
      }
      int answered = 0;
      while (answered < calls) {
        ModelGateway.Reply reply = probe.receiveMessage(Duration.ofSeconds(10));
        if (reply.outcome() instanceof ModelOutcome.Ok) {
          answered++;
        } else {
          gateway.tell(new ModelGateway.Call(reply.request(), probe.getRef())); // the record's retry
        }
      }
      // With a fixed limit of 64, each round would send 64 calls for 8 places: ~7 refusals per answer.
      assertTrue(refused.get() < calls, refused.get() + " refusals for " + calls + " answers");
      TestProbe<ModelGateway.Stats> stats = testKit.createTestProbe();
      gateway.tell(new ModelGateway.GetStats(stats.getRef()));
      ModelGateway.Stats now = stats.receiveMessage();
      assertEquals(64, now.ceiling());
      assertTrue(now.limit() >= 1 && now.limit() <= 3 * capacity, "the limit settled near what the provider takes: " + now);
    } finally {
      timer.shutdownNow();
    }
  }

  @Test
  void slowStartReachesAnyCeilingWithinTwoRounds() {
    for (int ceiling : new int[] {1, 8, 32, 64, 100, 256, 1000, 4096}) {
      int window = Lane.initialWindow(ceiling);
      int rounds = 0;
      while (window < ceiling) {
        window = Math.min(ceiling, window * 2);
        rounds++;
      }
      assertTrue(rounds <= 2, "ceiling " + ceiling + ": " + rounds + " rounds below it");
      assertTrue(Lane.initialWindow(ceiling) <= Math.max(Lane.INITIAL_WINDOW, ceiling / 4),
          "ceiling " + ceiling + ": the first round probes a quarter of it at most (or the floor)");
    }
  }

  @Test
  void aGatewayWithTheDefaultCeilingStartsAtAQuarterOfItAndReachesItInTwoRounds() {
    assertSlowStart(256, 1000, 64, 128, 256);
  }

  @Test
  void aGatewayStartsWithAFewCallsAndDoublesThemEachRoundUpToItsLimit() {
    assertSlowStart(100, 300, Lane.INITIAL_WINDOW, 64, 100);
  }

  /** {@code calls} sent to a gateway of {@code ceiling}: {@code first} go out, then each round of answers lets {@code rounds} go. */
  private void assertSlowStart(int ceiling, int calls, int first, int... rounds) {
    List<CompletableFuture<ModelOutcome>> held = new CopyOnWriteArrayList<>();
    ModelClient client = (p, body) -> {
      CompletableFuture<ModelOutcome> f = new CompletableFuture<>();
      held.add(f);
      return f;
    };
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(ceiling), client, ModelGateway.Settings.DEFAULT));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    for (int i = 0; i < calls; i++) {
      gateway.tell(new ModelGateway.Call(request(i), probe.getRef()));
    }
    probe.awaitAssert(() -> {
      assertEquals(first, held.size(), "calls sent before any answer");
      return null;
    });
    int answered = 0;
    for (int round : rounds) {
      int sentBefore = held.size();
      for (int i = answered; i < sentBefore; i++) {
        held.get(i).complete(new ModelOutcome.Ok("a", "stop", Usage.NONE, 1));
        probe.expectMessageClass(ModelGateway.Reply.class);
      }
      answered = sentBefore;
      probe.awaitAssert(() -> {
        assertEquals(round, held.size() - sentBefore, "a round of answers doubles the calls in flight, up to the limit");
        return null;
      });
    }
  }

  @Test
  void theLimitGrowsBackWhenTheProviderStopsRefusing() {
    AtomicInteger refuse = new AtomicInteger(1);
    ModelClient client = (p, body) -> CompletableFuture.completedFuture(refuse.getAndDecrement() > 0
        ? ModelOutcome.Errors.fromStatus(429, "", 0, 1) : new ModelOutcome.Ok("ok", "stop", Usage.NONE, 1));
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(10), client, ModelGateway.Settings.DEFAULT));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    TestProbe<ModelGateway.Stats> stats = testKit.createTestProbe();
    gateway.tell(new ModelGateway.Call(request(0), probe.getRef()));
    assertInstanceOf(ModelOutcome.Failed.class, probe.receiveMessage().outcome());
    gateway.tell(new ModelGateway.GetStats(stats.getRef()));
    assertEquals(7, stats.receiveMessage().limit(), "one 429 cuts 10 to 7");
    for (int i = 1; i <= 40; i++) {
      gateway.tell(new ModelGateway.Call(request(i), probe.getRef()));
      assertInstanceOf(ModelOutcome.Ok.class, probe.receiveMessage().outcome());
    }
    gateway.tell(new ModelGateway.GetStats(stats.getRef()));
    assertEquals(10, stats.receiveMessage().limit(), "answers grow it back to the configured limit, no further");
  }

  @Test
  void malformedAnswersAreRetryableErrorsNotCrashes() {
    var notJson = assertInstanceOf(ModelOutcome.Failed.class, OpenAiHttpClient.parse("<html>oops</html>", 3));
    assertEquals("invalid_response", notJson.errorType());
    assertTrue(notJson.retryable());
    var noContent = assertInstanceOf(ModelOutcome.Failed.class, OpenAiHttpClient.parse("{\"choices\": []}", 3));
    assertTrue(noContent.message().contains("choices[0].message.content"), noContent.message());
    var ok = assertInstanceOf(ModelOutcome.Ok.class, OpenAiHttpClient.parse(
        "{\"choices\":[{\"message\":{\"content\":\"hi\"},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}", 3));
    assertEquals("hi", ok.text());
    assertEquals("length", ok.finishReason());
    assertEquals(new Usage(5, 2), ok.usage());
  }

  @Test
  void aClientThatThrowsAnswersThatCallAndTheGatewayGoesOn() {
    List<Duration> timeouts = new CopyOnWriteArrayList<>();
    ModelClient client = (p, body) -> {
      timeouts.add(p.requestTimeout());
      if (body.contains("\"i\":0")) {
        throw new IllegalArgumentException("Illegal character in authority at index 7: http://bad host/v1");
      }
      return CompletableFuture.completedFuture(new ModelOutcome.Ok("ok", "stop", Usage.NONE, 1));
    };
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(provider(4), client, ModelGateway.Settings.DEFAULT));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    gateway.tell(new ModelGateway.Call(request(0), probe.getRef()));
    ModelGateway.Reply failed = probe.expectMessageClass(ModelGateway.Reply.class);
    ModelOutcome.Failed f = assertInstanceOf(ModelOutcome.Failed.class, failed.outcome());
    assertTrue(f.message().contains("Illegal character"), f.message());
    ModelRequest slow = new ModelRequest("job/1", CallId.of("s"), 1, "m", "{\"i\":1}", "fp1", 100, null, Duration.ofSeconds(7));
    gateway.tell(new ModelGateway.Call(slow, probe.getRef()));
    assertInstanceOf(ModelOutcome.Ok.class, probe.expectMessageClass(ModelGateway.Reply.class).outcome(), "the gateway still serves");
    assertEquals(List.of(Duration.ofSeconds(5), Duration.ofSeconds(7)), timeouts, "a spec's timeout reaches the client");
  }

  @Test
  void aModelWithSeveralServersSpreadsItsCallsFailsOverAndNamesTheServerThatAnswered() {
    Provider a = new Provider("m", "http://a.invalid/v1", null, "m", 100, Duration.ofSeconds(5));
    Provider b = new Provider("m", "http://b.invalid/v1", null, "m-served-as", 100, Duration.ofSeconds(5));
    Provider model = new Provider("m", "endpoints:m", null, "m", 100, Duration.ofSeconds(5), 0, 0, false, "endpoints:m",
        List.of(new Endpoint("a", a, 1), new Endpoint("b", b, 1)));
    List<String> bodiesAtB = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean aDown = new java.util.concurrent.atomic.AtomicBoolean();
    ModelClient client = (p, body) -> {
      if (p.baseUrl().contains("b.invalid")) {
        bodiesAtB.add(body);
        return CompletableFuture.completedFuture(new ModelOutcome.Ok("from b", "stop", Usage.NONE, 1));
      }
      return CompletableFuture.completedFuture(aDown.get()
          ? ModelOutcome.Errors.fromStatus(502, "bad gateway", 0, 1) : new ModelOutcome.Ok("from a", "stop", Usage.NONE, 1));
    };
    ActorRef<ModelGateway.Command> gateway = testKit.spawn(ModelGateway.create(model, client, ModelGateway.Settings.DEFAULT));
    TestProbe<ModelGateway.Reply> probe = testKit.createTestProbe();
    java.util.Map<String, Integer> answeredBy = new java.util.TreeMap<>();
    for (int i = 0; i < 20; i++) {
      gateway.tell(new ModelGateway.Call(request(i), probe.getRef()));
      answeredBy.merge(probe.expectMessageClass(ModelGateway.Reply.class).endpoint(), 1, Integer::sum);
    }
    assertEquals(java.util.Map.of("a", 10, "b", 10), answeredBy, "equal weights, equal shares");
    assertTrue(bodiesAtB.stream().allMatch(body -> body.contains("\"model\":\"m-served-as\"")),
        "b gets the model under the name it serves it as: " + bodiesAtB.get(0));

    aDown.set(true);
    answeredBy.clear();
    for (int i = 0; i < 40; i++) {
      gateway.tell(new ModelGateway.Call(request(100 + i), probe.getRef()));
      ModelGateway.Reply reply = probe.expectMessageClass(ModelGateway.Reply.class);
      answeredBy.merge(reply.endpoint() + (reply.outcome() instanceof ModelOutcome.Ok ? "" : " failed"), 1, Integer::sum);
    }
    assertEquals(Lanes.FAILOVER_AFTER, answeredBy.get("a failed"), "a is left after its failures in a row: " + answeredBy);
    assertEquals(40 - Lanes.FAILOVER_AFTER, answeredBy.get("b"), answeredBy.toString());
  }
}
