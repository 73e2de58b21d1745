package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class InFlightSharesTest {

  @Test
  void capacityIsSharedMaxMinFairly() {
    Map<String, Integer> shares = InFlightShares.fair(Map.of("big", 1000, "small", 5, "other", 1000), 50);
    assertEquals(5, shares.get("small"), "a job that wants less than an equal share keeps what it wants");
    assertEquals(45, shares.get("big") + shares.get("other"), "the rest is split: " + shares);
    assertTrue(Math.abs(shares.get("big") - shares.get("other")) <= 1, "evenly: " + shares);
    assertEquals(Map.of("a", 10, "b", 20), InFlightShares.fair(Map.of("a", 10, "b", 20), 1000), "room for all: each its own");
    assertEquals(Map.of("a", 1, "b", 1, "c", 1), InFlightShares.fair(Map.of("a", 9, "b", 9, "c", 9), 2), "never below one");
  }

  @Test
  void aJobNotYetSeenIsCountedInAndMembersMultiplyTheCapacity() {
    InFlightShares shares = new InFlightShares(100);
    shares.running(Map.of("a", 1000));
    assertEquals(100, shares.windowFor("a", 1000));
    assertEquals(50, shares.windowFor("b", 1000), "a new job takes its share before the next refresh");
    assertEquals(30, shares.windowFor("c", 30), "and never more than its own window");
    shares.running(Map.of("a", 1000, "b", 1000));
    assertEquals(50, shares.windowFor("a", 1000));
    shares.clusterSize(3);
    assertEquals(150, shares.windowFor("a", 1000));
    assertEquals(300, shares.capacity());
  }
}
