package io.skein.coordinator.job;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How many records each running job may have in flight, so that all jobs together stay under
 * {@code perNode} records per cluster member (memory is bounded by the in-flight records, and a
 * node holds those of every job). The capacity is shared max-min fairly: a job that wants less
 * than an equal share keeps what it wants, the rest is split among the others. Every node computes
 * the same shares from the same inputs: the running jobs' own windows (read from the database
 * each tick) and the number of members.
 */
public final class InFlightShares {

  private final int perNode;
  private volatile int members = 1;
  private volatile Map<String, Integer> wanted = Map.of();
  private volatile Map<String, Integer> shares = Map.of();

  public InFlightShares(int perNode) {
    this.perNode = Math.max(1, perNode);
  }

  public void clusterSize(int upMembers) {
    members = Math.max(1, upMembers);
    shares = fair(wanted, capacity());
  }

  /** The running jobs and the window each asks for. */
  public void running(Map<String, Integer> jobWindows) {
    wanted = Map.copyOf(jobWindows);
    shares = fair(wanted, capacity());
  }

  public long capacity() {
    return (long) perNode * members;
  }

  /** The window job {@code jobId} may use now: its own, or less when the cluster is shared. */
  public int windowFor(String jobId, int requested) {
    Integer share = shares.get(jobId);
    if (share == null) {
      // Not seen running yet (it just started): count it in, as the next refresh will.
      Map<String, Integer> with = new HashMap<>(wanted);
      with.put(jobId, requested);
      share = fair(with, capacity()).get(jobId);
    }
    return Math.max(1, Math.min(requested, share));
  }

  /** Max-min fair division of {@code capacity} among {@code wanted}; every job gets at least 1. */
  static Map<String, Integer> fair(Map<String, Integer> wanted, long capacity) {
    List<Map.Entry<String, Integer>> byWant = new ArrayList<>(wanted.entrySet());
    byWant.sort(Map.Entry.comparingByValue());
    Map<String, Integer> out = new HashMap<>();
    long left = capacity;
    int remaining = byWant.size();
    for (Map.Entry<String, Integer> e : byWant) {
      long equal = Math.max(1, left / remaining);
      int share = (int) Math.min(e.getValue(), equal);
      out.put(e.getKey(), Math.max(1, share));
      left = Math.max(0, left - share);
      remaining--;
    }
    return out;
  }
}
