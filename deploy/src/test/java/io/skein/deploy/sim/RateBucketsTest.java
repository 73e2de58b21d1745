package io.skein.deploy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-minute buckets on a clock the test moves, and the Go-style durations of the reset headers. */
class RateBucketsTest {

  private final AtomicLong now = new AtomicLong(123_456_789L);

  private void advanceMillis(long millis) {
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
  }

  @Test
  void aFullMinuteOfRequestsGoesThroughAtOnceAndTheNextWaitsForTheRefill() {
    RateBuckets buckets = new RateBuckets(60, 0, now::get);
    for (int i = 1; i <= 60; i++) {
      RateBuckets.Decision d = buckets.admit(10);
      assertTrue(d.admitted());
      assertEquals(new RateBuckets.Level(60, 60 - i, i * 1000L), d.requests());
      assertNull(d.tokens(), "no token limit, no token bucket");
    }
    RateBuckets.Decision refused = buckets.admit(10);
    assertEquals(RateBuckets.Limit.REQUESTS, refused.refusedBy());
    assertEquals(1000, refused.retryAfterMillis());
    assertEquals(new RateBuckets.Level(60, 0, 60_000), refused.requests(), "a refused request takes nothing");

    advanceMillis(999);
    RateBuckets.Decision early = buckets.admit(10);
    assertFalse(early.admitted(), "999 ms refilled 0.999 of a request");
    assertEquals(1, early.retryAfterMillis());
    assertEquals(59_001, early.requests().resetMillis());
    advanceMillis(1);
    RateBuckets.Decision after = buckets.admit(10);
    assertTrue(after.admitted(), "after the time it was told, it gets in");
    assertEquals(0, after.requests().remaining());
  }

  @Test
  void theBucketRefillsContinuouslyUpToItsLimitAndNoFurther() {
    RateBuckets buckets = new RateBuckets(60, 0, now::get);
    for (int i = 0; i < 30; i++) {
      buckets.admit(1);
    }
    advanceMillis(10_500);
    assertEquals(new RateBuckets.Level(60, 40, 19_500), buckets.peek().requests());
    advanceMillis(3_600_000);
    assertEquals(new RateBuckets.Level(60, 60, 0), buckets.peek().requests());
  }

  @Test
  void tokensRefuseARequestThatAsksForMoreThanIsLeftAndSayWhenItWillBeThere() {
    RateBuckets buckets = new RateBuckets(0, 1000, now::get);
    assertEquals(new RateBuckets.Level(1000, 400, 36_000), buckets.admit(600).tokens());
    RateBuckets.Decision refused = buckets.admit(500);
    assertEquals(RateBuckets.Limit.TOKENS, refused.refusedBy());
    assertEquals(6_000, refused.retryAfterMillis(), "100 tokens at 1000/min");
    assertEquals(400, refused.tokens().remaining());
    assertNull(refused.requests());
    assertTrue(buckets.admit(400).admitted(), "what is left can still be had");
  }

  @Test
  void aRequestLargerThanTheTokenLimitIsNeverAdmitted() {
    RateBuckets buckets = new RateBuckets(0, 1000, now::get);
    RateBuckets.Decision refused = buckets.admit(1001);
    assertEquals(RateBuckets.Limit.TOKENS, refused.refusedBy());
    assertEquals(-1, refused.retryAfterMillis());
  }

  @Test
  void aRequestRefusedForTokensTakesNoRequestEither() {
    RateBuckets buckets = new RateBuckets(10, 100, now::get);
    assertTrue(buckets.admit(100).admitted());
    RateBuckets.Decision refused = buckets.admit(1);
    assertEquals(RateBuckets.Limit.TOKENS, refused.refusedBy());
    assertEquals(9, refused.requests().remaining());
    assertEquals(0, refused.tokens().remaining());
  }

  @Test
  void durationsAreWrittenAsGoAndOpenAiWriteThem() {
    assertEquals("0s", RateBuckets.goDuration(0));
    assertEquals("1ms", RateBuckets.goDuration(1));
    assertEquals("120ms", RateBuckets.goDuration(120));
    assertEquals("1s", RateBuckets.goDuration(1000));
    assertEquals("17.262s", RateBuckets.goDuration(17_262));
    assertEquals("59.5s", RateBuckets.goDuration(59_500));
    assertEquals("1.05s", RateBuckets.goDuration(1_050));
    assertEquals("6m0s", RateBuckets.goDuration(360_000));
    assertEquals("1m0.001s", RateBuckets.goDuration(60_001));
    assertEquals("1h0m0s", RateBuckets.goDuration(3_600_000));
    assertEquals("1h2m3.5s", RateBuckets.goDuration(3_723_500));
  }
}
