package io.skein.coordinator.job;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How many records each running job may have in flight, so that all jobs together stay under
 * {@code perNode} records per cluster member (memory is bounded by the in-flight records, and a
 * node holds those of every job). The capacity is shared max-min fairly between tenants first, then
 * between each tenant's jobs: a tenant with a hundred jobs gets the share of a tenant with one (jobs
 * of no tenant count as one tenant). A tenant (or job) that wants less than an equal share keeps
 * what it wants, the rest is split among the others; a tenant never has more in flight than its
 * {@code max-in-flight} ({@code skein.tenants.<name>}), but for one record per running job (every job
 * moves). Every node computes the same shares from the
 * same inputs: the running jobs' own windows and tenants (read from the database each tick) and the
 * number of members.
 */
public final class InFlightShares {

  /** The group of jobs without a tenant. */
  private static final String NO_TENANT = "";

  private final int perNode;
  /** Tenant → the most records its jobs may have in flight across the cluster. */
  private final Map<String, Integer> tenantCaps;
  private volatile int members = 1;
  private volatile Map<String, Integer> wanted = Map.of();
  private volatile Map<String, String> tenants = Map.of();
  private volatile Map<String, Integer> shares = Map.of();

  public InFlightShares(int perNode) {
    this(perNode, Map.of());
  }

  public InFlightShares(int perNode, Map<String, Integer> tenantCaps) {
    this.perNode = Math.max(1, perNode);
    this.tenantCaps = Map.copyOf(tenantCaps);
  }

  public synchronized void clusterSize(int upMembers) {
    members = Math.max(1, upMembers);
    shares = fair(wanted, tenants, capacity(), tenantCaps);
  }

  /** The running jobs and the window each asks for, all of no tenant. */
  public synchronized void running(Map<String, Integer> jobWindows) {
    running(jobWindows, Map.of());
  }

  /** The running jobs, the window each asks for, and the tenant of each (absent: none). */
  public synchronized void running(Map<String, Integer> jobWindows, Map<String, String> jobTenants) {
    wanted = Map.copyOf(jobWindows);
    tenants = Map.copyOf(jobTenants);
    shares = fair(wanted, tenants, capacity(), tenantCaps);
  }

  /** Job {@code jobId} is {@code tenant}'s (null: no tenant's), known before the next refresh says so. */
  public synchronized void tenant(String jobId, String tenant) {
    if (tenant != null && !tenant.equals(tenants.get(jobId))) {
      Map<String, String> with = new HashMap<>(tenants);
      with.put(jobId, tenant);
      tenants = Map.copyOf(with);
      shares = fair(wanted, tenants, capacity(), tenantCaps);
    }
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
      share = fair(with, tenants, capacity(), tenantCaps).get(jobId);
    }
    return Math.max(1, Math.min(requested, share));
  }

  /** Max-min fair division of {@code capacity} among {@code wanted}, all of one tenant; every job gets at least 1. */
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

  /**
   * Max-min fair division of {@code capacity} between tenants (each wanting the sum of its jobs'
   * windows, at most its cap), then of each tenant's share between its jobs.
   */
  static Map<String, Integer> fair(Map<String, Integer> wanted, Map<String, String> tenants, long capacity, Map<String, Integer> caps) {
    Map<String, Map<String, Integer>> byTenant = new HashMap<>();
    wanted.forEach((job, window) -> byTenant.computeIfAbsent(tenants.getOrDefault(job, NO_TENANT), t -> new HashMap<>()).put(job, window));
    Map<String, Integer> tenantWants = new HashMap<>();
    byTenant.forEach((tenant, jobs) -> {
      long sum = jobs.values().stream().mapToLong(Integer::longValue).sum();
      tenantWants.put(tenant, (int) Math.min(Math.min(sum, Integer.MAX_VALUE), caps.getOrDefault(tenant, Integer.MAX_VALUE)));
    });
    Map<String, Integer> tenantShares = fair(tenantWants, capacity);
    Map<String, Integer> out = new HashMap<>();
    byTenant.forEach((tenant, jobs) -> out.putAll(fair(jobs, tenantShares.get(tenant))));
    return out;
  }
}
