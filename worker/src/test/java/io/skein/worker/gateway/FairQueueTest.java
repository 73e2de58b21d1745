package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The order a gateway serves waiting calls in: tenants take turns, then their jobs, then each job's calls in order. */
class FairQueueTest {

  /** A waiting call: tenant, job, and its number within the job. */
  record Call(String tenant, String job, int n) {
    @Override
    public String toString() {
      return job + n;
    }
  }

  private static FairQueue<Call> queue() {
    return new FairQueue<>(Call::tenant, Call::job);
  }

  private static List<String> drain(FairQueue<Call> q, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(String.valueOf(q.poll()));
    }
    return out;
  }

  @Test
  void aTenantWithManyJobsGetsTheTurnsOfATenantWithOne() {
    FairQueue<Call> q = queue();
    for (String job : List.of("a", "b", "c")) {
      for (int i = 0; i < 3; i++) {
        q.add(new Call("team-a", job, i));
      }
    }
    for (int i = 0; i < 3; i++) {
      q.add(new Call("team-b", "z", i));
    }
    assertEquals(12, q.size());
    assertEquals(List.of("a0", "z0", "b0", "z1", "c0", "z2", "a1", "b1", "c1", "a2", "b2", "c2"), drain(q, 12));
    assertNull(q.poll());
    assertEquals(0, q.size());
  }

  @Test
  void withoutTenantsJobsTakeTurns() {
    FairQueue<Call> q = new FairQueue<>(Call::job);
    q.add(new Call(null, "a", 0));
    q.add(new Call(null, "a", 1));
    q.add(new Call(null, "b", 0));
    assertEquals("a0", q.peek().toString());
    assertEquals(List.of("a0", "b0", "a1"), drain(q, 3));
  }

  @Test
  void removedCallsLeaveTheRestInOrder() {
    FairQueue<Call> q = queue();
    q.add(new Call("t", "a", 0));
    q.add(new Call("t", "b", 0));
    q.add(new Call(null, "c", 0));
    q.add(new Call("t", "a", 1));
    List<Call> removed = new ArrayList<>();
    q.removeIf(c -> c.job().equals("a"), removed::add);
    assertEquals(2, removed.size());
    assertEquals(2, q.size());
    assertEquals(List.of("b0", "c0"), drain(q, 2));
  }
}
