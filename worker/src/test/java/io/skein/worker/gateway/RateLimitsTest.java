package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RateLimitsTest {

  @Test
  void openAisHeadersAreRead() {
    Map<String, String> headers = Map.of(
        "x-ratelimit-limit-requests", "600", "x-ratelimit-remaining-requests", "599", "x-ratelimit-reset-requests", "100ms",
        "x-ratelimit-limit-tokens", "150000", "x-ratelimit-remaining-tokens", "149984", "x-ratelimit-reset-tokens", "6m0s");
    RateLimits limits = RateLimits.from(name -> Optional.ofNullable(headers.get(name)));
    assertEquals(new RateLimits(600, 599, 100, 150_000, 149_984, 360_000), limits);
    assertTrue(limits.saysRequests());
    assertTrue(limits.saysTokens());
  }

  @Test
  void resetsInGosFormatOrSecondsBecomeMilliseconds() {
    assertEquals(1000, RateLimits.durationMillis("1s"));
    assertEquals(17_262, RateLimits.durationMillis("17.262s"));
    assertEquals(3_723_500, RateLimits.durationMillis("1h2m3.5s"));
    assertEquals(120, RateLimits.durationMillis("120ms"));
    assertEquals(0, RateLimits.durationMillis("0s"));
    assertEquals(2500, RateLimits.durationMillis("2.5"));
    assertEquals(-1, RateLimits.durationMillis("soon"));
    assertEquals(-1, RateLimits.durationMillis("1s later"));
  }

  @Test
  void anAnswerWithoutTheHeadersSaysNothing() {
    RateLimits none = RateLimits.from(name -> Optional.empty());
    assertSame(RateLimits.NONE, none);
    assertFalse(none.saysRequests());
    RateLimits garbled = RateLimits.from(name -> Optional.of("n/a"));
    assertFalse(garbled.saysRequests(), "values that are no numbers are not limits");
  }
}
