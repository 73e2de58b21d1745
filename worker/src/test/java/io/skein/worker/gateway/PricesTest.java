package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.skein.protocol.Usage;
import org.junit.jupiter.api.Test;

/** Prices per million tokens, counted in billionths of a dollar, read from the node's config. */
class PricesTest {

  @Test
  void aCallCostsItsTokensAtTheModelsPrices() {
    Prices prices = Prices.from(ConfigFactory.parseString("\"gpt-4o\" { input = 2.50, output = 10.00 }\n\"a.b/c\" { input = 0.15, output = 0.6 }"));
    // 1,000 in at $2.50/M + 500 out at $10/M = $0.0025 + $0.005
    assertEquals(7_500_000L, prices.nanos("gpt-4o", new Usage(1000, 500)));
    assertEquals(Math.round(7 * 0.15 * 1e3 + 3 * 0.6 * 1e3), prices.nanos("a.b/c", new Usage(7, 3)), "names with dots and slashes");
    assertEquals(0, prices.nanos("sim-small", new Usage(1000, 500)), "no price, no cost");
    assertTrue(prices.priced("gpt-4o"));
    assertFalse(prices.priced("sim-small"));
    assertEquals(0.0075, Prices.dollars(prices.nanos("gpt-4o", new Usage(1000, 500))), 1e-12);
  }

  @Test
  void promptTokensFromTheProvidersCacheCostTheCachedInputPrice() {
    Prices prices = Prices.from(ConfigFactory.parseString("m { input = 2.50, output = 10.00, cached-input = 1.25 }\nn { input = 2, output = 4 }"));
    // 600 fresh in at $2.50/M + 400 cached at $1.25/M + 100 out at $10/M
    assertEquals(Math.round(600 * 2.5e3 + 400 * 1.25e3 + 100 * 10e3), prices.nanos("m", new Usage(1000, 100, 400)));
    assertEquals(prices.nanos("n", new Usage(1000, 100)), prices.nanos("n", new Usage(1000, 100, 400)), "no cached-input price: no discount");
  }

  @Test
  void aWrongEntryIsRefusedNamingIt() {
    var typo = assertThrows(IllegalArgumentException.class,
        () -> Prices.from(ConfigFactory.parseString("m { input = 1, ouput = 2 }")));
    assertTrue(typo.getMessage().startsWith("skein.prices.m:") && typo.getMessage().contains("ouput"), typo.getMessage());
    var negative = assertThrows(IllegalArgumentException.class, () -> Prices.from(ConfigFactory.parseString("m { input = -1, output = 2 }")));
    assertTrue(negative.getMessage().contains("non-negative"), negative.getMessage());
    var missing = assertThrows(IllegalArgumentException.class, () -> Prices.from(ConfigFactory.parseString("m { input = 1 }")));
    assertTrue(missing.getMessage().contains("output"), missing.getMessage());
  }
}
