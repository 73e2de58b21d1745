package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BudgetTest {

  @Test
  void aBudgetRefillsAtItsRateAndHoldsTwoSecondsWorth() {
    Budget perMinute600 = new Budget(600, 0);
    int taken = 0;
    while (perMinute600.tryTake(1, 0)) {
      taken++;
    }
    assertEquals(20, taken, "two seconds' worth at 10/s");
    assertEquals(100, perMinute600.millisUntil(1, 0));
    assertFalse(perMinute600.tryTake(1, 99));
    assertTrue(perMinute600.tryTake(1, 100));
    assertTrue(perMinute600.tryTake(5, 600));
  }

  @Test
  void estimatesAreSettledOnActualUsage() {
    Budget tokens = new Budget(60_000, 0);
    assertTrue(tokens.tryTake(2000, 0));
    assertFalse(tokens.tryTake(1, 0), "the whole bucket is spent");
    tokens.adjust(1500, 0);
    assertTrue(tokens.tryTake(1500, 0), "what the call did not use comes back");
  }

  @Test
  void aShareOfTheClusterBudget() {
    Budget share = new Budget(0, 0);
    assertTrue(share.unlimited());
    share.resize(600 / 3.0, 0);
    int taken = 0;
    while (share.tryTake(1, 0)) {
      taken++;
    }
    assertEquals(6, taken, "a third of 600/min holds two seconds at 200/min");
    assertEquals(100, share.millisUntil(1, 0), "6.67 held, 0.33 left: a third of a unit at 200/min");
  }
}
