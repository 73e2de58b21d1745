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

  @Test
  void tenantsShareFirstThenTheirJobs() {
    Map<String, Integer> windows = new java.util.HashMap<>();
    Map<String, String> tenants = new java.util.HashMap<>();
    for (int i = 0; i < 100; i++) {
      windows.put("a" + i, 1000);
      tenants.put("a" + i, "team-a");
    }
    windows.put("b", 1000);
    tenants.put("b", "team-b");
    Map<String, Integer> shares = InFlightShares.fair(windows, tenants, 1000, Map.of());
    assertEquals(500, shares.get("b"), "one job of one tenant gets what a hundred jobs of another get together: " + shares.get("b"));
    assertEquals(500, tenants.keySet().stream().filter(j -> j.startsWith("a")).mapToInt(shares::get).sum());
    assertEquals(5, shares.get("a7"));
  }

  @Test
  void aTenantsCapHoldsAndLeavesTheRestToOthers() {
    Map<String, Integer> shares = InFlightShares.fair(Map.of("a1", 800, "a2", 800, "b", 800, "free", 800),
        Map.of("a1", "team-a", "a2", "team-a", "b", "team-b"), 3000, Map.of("team-a", 100));
    assertEquals(100, shares.get("a1") + shares.get("a2"), "team-a's cap");
    assertEquals(800, shares.get("b"), "what team-a may not use goes to the others");
    assertEquals(800, shares.get("free"), "jobs of no tenant are a tenant of their own");
    InFlightShares live = new InFlightShares(50, Map.of("team-a", 30));
    live.running(Map.of("a1", 1000), Map.of("a1", "team-a"));
    assertEquals(30, live.windowFor("a1", 1000));
  }
}
