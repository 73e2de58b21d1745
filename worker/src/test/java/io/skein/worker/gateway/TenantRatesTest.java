package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** A tenant's requests per minute, as a node's share of the cluster's cap. */
class TenantRatesTest {

  private static final long SECOND = 1_000_000_000L;

  @Test
  void aTenantSendsItsShareAndIsToldHowLongToWait() {
    TenantRates rates = TenantRates.from(ConfigFactory.parseString("team-a {max-requests-per-minute = 600}, team-b {max-in-flight = 5}"));
    assertEquals(600, rates.cap("team-a"));
    assertEquals(0, rates.cap("team-b"), "no request cap");
    assertEquals(0, rates.cap(null));
    long t = 0;
    int sent = 0;
    long wait;
    // 10 a second; a bucket holds 5 seconds of it.
    while ((wait = rates.take("team-a", t)) == 0) {
      sent++;
    }
    assertEquals(50, sent, "a burst of five seconds' worth");
    assertTrue(wait > 0 && wait <= 100, "then one every 100 ms: " + wait);
    assertEquals(0, rates.take("team-a", t + SECOND / 10), "a token 100 ms later");
    assertEquals(0, rates.take("team-b", t), "a tenant without a cap always sends");
    assertEquals(0, rates.take(null, t));
  }

  @Test
  void eachMemberTakesItsShareOfTheClustersCap() {
    TenantRates rates = TenantRates.from(ConfigFactory.parseString("t {max-requests-per-minute = 600}"));
    rates.clusterSize(3);
    long t = 0;
    int sent = 0;
    long wait;
    while ((wait = rates.take("t", t)) == 0) {
      sent++;
    }
    assertEquals(16, sent, "a third of the burst");
    assertTrue(wait > 0 && wait <= 300, wait + " ms");
    t += wait * 1_000_000L;
    assertEquals(0, rates.take("t", t), "a token once the wait is over");
    long next = rates.take("t", t);
    assertTrue(next >= 299 && next <= 301, "then one every 300 ms, a third of the rate: " + next);
  }

  @Test
  void callsToldToWaitAreGivenTurnsAtTheRateNotAllTheNextToken() {
    TenantRates rates = TenantRates.from(ConfigFactory.parseString("t {max-requests-per-minute = 600}"));
    long t = 0;
    long first;
    while ((first = rates.take("t", t)) == 0) {
      // the burst
    }
    long[] waits = new long[5];
    waits[0] = first;
    for (int i = 1; i < 5; i++) {
      waits[i] = rates.take("t", t);
    }
    for (int i = 1; i < 5; i++) {
      assertTrue(waits[i] - waits[i - 1] >= 99 && waits[i] - waits[i - 1] <= 101, "each a turn 100 ms after the one before: "
          + java.util.Arrays.toString(waits));
    }
    for (long wait : waits) {
      assertEquals(0, rates.take("t", t + wait * 1_000_000L), "each finds its token when it comes back");
    }
  }
}
