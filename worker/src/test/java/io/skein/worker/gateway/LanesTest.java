package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.protocol.Usage;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a gateway spreads calls over a model's servers and paces them by what the servers say, without actors. */
class LanesTest {

  private static Endpoint endpoint(String name, double weight, int concurrency) {
    return new Endpoint(name, new Provider("m", "http://" + name + ".invalid/v1", null, "m", concurrency, Duration.ofSeconds(5)), weight);
  }

  private static final ModelOutcome OK = new ModelOutcome.Ok("x", "stop", Usage.NONE, 10);
  private static final ModelOutcome DOWN = ModelOutcome.Errors.fromStatus(503, "down", 0, 10);

  private static ModelOutcome ok(long latencyMillis) {
    return new ModelOutcome.Ok("x", "stop", Usage.NONE, latencyMillis);
  }

  /** Sends {@code calls} one at a time, each answered by {@code answer} for its lane; counts calls per lane. */
  private static Map<String, Integer> run(Lanes lanes, int calls, java.util.function.Function<Lane, ModelOutcome> answer) {
    Map<String, Integer> sent = new HashMap<>();
    for (int i = 0; i < calls; i++) {
      Lane lane = lanes.pick(10, 0);
      assertNotNull(lane, "some lane takes call " + i);
      Lane.Sent s = lane.send(10, 0, i);
      sent.merge(lane.endpoint().name(), 1, Integer::sum);
      lanes.answered(lane, answer.apply(lane), RateLimits.NONE, s, 0, i, 50, 1000);
    }
    return sent;
  }

  @Test
  void trafficFollowsTheWeightsWhileEveryServerIsWell() {
    Lanes lanes = new Lanes(List.of(endpoint("a", 3, 100), endpoint("b", 1, 100)), 1, 0);
    Map<String, Integer> sent = run(lanes, 400, lane -> OK);
    assertEquals(300, sent.get("a"));
    assertEquals(100, sent.get("b"));
  }

  @Test
  void aServerThatFailsGetsLessAndAnOpenOneNoneUntilItsProbeSucceeds() {
    Lanes lanes = new Lanes(List.of(endpoint("a", 1, 100), endpoint("b", 1, 100)), 1, 0);
    Map<String, Integer> sent = run(lanes, 200, lane -> lane.endpoint().name().equals("b") ? DOWN : OK);
    assertEquals(Lanes.FAILOVER_AFTER, sent.get("b"), "b's breaker opens after its failures in a row: " + sent);
    assertTrue(lanes.all().get(1).open(0));
    // Open for 1000 ms: then b is probed once, and one more failure opens it again at once.
    Lane probe = null;
    for (int i = 0; i < 40 && probe == null; i++) {
      Lane l = lanes.pick(10, 1000);
      Lane.Sent s = l.send(10, 1000, 1000 + i);
      if (l.endpoint().name().equals("b")) {
        probe = l;
        assertSame(Lane.Change.OPENED, lanes.answered(l, DOWN, RateLimits.NONE, s, 1000, 1000 + i, 50, 1000));
      } else {
        lanes.answered(l, OK, RateLimits.NONE, s, 1000, 1000 + i, 50, 1000);
      }
    }
    assertNotNull(probe, "a half-open server gets a call among the others' (at a sixteenth of its weight)");
    assertTrue(lanes.all().get(1).open(1000));
  }

  @Test
  void theOnlyServerOpensAfterTheConfiguredFailuresAndClosesFully() {
    Lanes lanes = new Lanes(List.of(endpoint("a", 1, 100)), 1, 0);
    for (int i = 0; i < 3; i++) {
      Lane l = lanes.pick(10, 0);
      Lane.Change change = lanes.answered(l, DOWN, RateLimits.NONE, l.send(10, 0, i), 0, i, 3, 500);
      assertEquals(i == 2 ? Lane.Change.OPENED : Lane.Change.NONE, change);
    }
    assertTrue(lanes.allOpen(100));
    assertEquals(400, lanes.openFor(100));
    assertNull(lanes.pick(10, 100));
    Lane l = lanes.pick(10, 500);
    assertEquals(Lane.Change.NONE, lanes.answered(l, DOWN, RateLimits.NONE, l.send(10, 500, 9), 500, 9, 3, 500),
        "one failure after the open period is not enough to open it again");
  }

  @Test
  void aSlowServerGetsLessTraffic() {
    Lanes lanes = new Lanes(List.of(endpoint("fast", 1, 100), endpoint("slow", 1, 100)), 1, 0);
    Map<String, Integer> sent = run(lanes, 500, lane -> lane.endpoint().name().equals("slow") ? ok(400) : ok(100));
    assertTrue(sent.get("slow") < 150 && sent.get("slow") > 50, "about a quarter of the calls for a server four times slower: " + sent);
  }

  @Test
  void aServerAtItsLimitLeavesTheCallsToTheOthers() {
    Lanes lanes = new Lanes(List.of(endpoint("a", 10, 2), endpoint("b", 1, 100)), 1, 0);
    int toB = 0;
    for (int i = 0; i < 12; i++) {
      Lane l = lanes.pick(10, 0);
      l.send(10, 0, i);
      toB += l.endpoint().name().equals("b") ? 1 : 0;
    }
    assertEquals(2, lanes.all().get(0).inFlight(), "a takes no more than its 2 at once");
    assertEquals(10, toB);
  }

  @Test
  void headersPaceSendingByWhatTheServerHasLeft() {
    // 60 requests a minute: one a second. The server says 2 were left when it took the first call.
    Lanes lanes = new Lanes(List.of(endpoint("a", 1, 100)), 1, 0);
    Lane lane = lanes.pick(10, 0);
    Lane.Sent first = lane.send(10, 0, 0);
    Lane.Sent second = lanes.pick(10, 0).send(10, 0, 1);
    lanes.answered(lane, OK, new RateLimits(60, 2, 58_000, -1, -1, -1), first, 0, 2, 50, 1000);
    // 2 left, less the second call sent after the first: 1.
    assertSame(lane, lanes.pick(10, 0));
    lane.send(10, 0, 3);
    assertNull(lanes.pick(10, 0), "nothing left at the server until it refills");
    assertEquals(1000, lanes.readyIn(10, 0), "one request refills in a second");
    assertSame(lane, lanes.pick(10, 1000));
    lane.send(10, 1000, 4);
    // The second call's answer: 1 was left when the server took it; the two calls sent after it took
    // that and what refilled since.
    lanes.answered(lane, OK, new RateLimits(60, 1, 59_000, -1, -1, -1), second, 1000, 5, 50, 1000);
    assertEquals(1000, lanes.readyIn(10, 1000));
  }

  @Test
  void eachNodeTakesItsShareOfWhatTheHeadersSay() {
    Lanes lanes = new Lanes(List.of(endpoint("a", 1, 100)), 2, 0);
    Lane lane = lanes.pick(1000, 0);
    Lane.Sent s = lane.send(1000, 0, 0);
    lanes.answered(lane, OK, new RateLimits(-1, -1, -1, 60_000, 3000, 57_000), s, 0, 1, 50, 1000);
    // Half of 3,000 tokens left for this node: one call of 1,000 goes, the next waits.
    assertNotNull(lanes.pick(1000, 0));
    lane.send(1000, 0, 2);
    assertNull(lanes.pick(1000, 0));
    // Refill: 57,000 tokens in 57 s, half of it for this node: 500 a second.
    assertEquals(1000, lanes.readyIn(1000, 0));
  }

  @Test
  void aServerIsNeverSentMoreCallsAtOnceThanTheNodeHasConnectionsToIt() {
    Lanes lanes = new Lanes(List.of(endpoint("a", 1, 100_000)), 1, 3, 0);
    for (int i = 0; i < 3; i++) {
      lanes.pick(10, 0).send(10, 0, i);
    }
    assertNull(lanes.pick(10, 0), "a fourth call waits here, where no request timeout runs");
    assertEquals(3, lanes.ceiling());
  }
}
