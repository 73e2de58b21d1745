package io.skein.worker.gateway;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each tenant's cap on model requests per minute across the cluster ({@code
 * skein.tenants.<name>.max-requests-per-minute}), kept on each node as a token bucket for its share
 * (the cap over the members up), as the providers' limits are. A call a tenant has no token for is
 * not sent: the gateway answers it {@code NotSent} with the wait, and the record asks again then,
 * spending no attempt. Answers from the response cache take no token. Shared by the node's gateways.
 */
public final class TenantRates {

  public static final TenantRates NONE = new TenantRates(Map.of());
  /** A bucket holds this many seconds of its rate: a quiet tenant may send a short burst. */
  private static final double BURST_SECONDS = 5;

  private final Map<String, Integer> perMinute;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private volatile int members = 1;

  public TenantRates(Map<String, Integer> perMinute) {
    this.perMinute = Map.copyOf(perMinute);
  }

  /** From {@code skein.tenants} ({@code {team-a {max-requests-per-minute = 600}}}); tenants without the key have no cap. */
  public static TenantRates from(Config tenants) {
    return new TenantRates(caps(tenants, "max-requests-per-minute"));
  }

  /** Each tenant's {@code key} under {@code skein.tenants} ({@code {team-a {key = N}}}), for those that set it; each at least 1. */
  public static Map<String, Integer> caps(Config tenants, String key) {
    Map<String, Integer> caps = new HashMap<>();
    for (String name : tenants.root().keySet()) {
      String path = ConfigUtil.joinPath(name, key);
      if (tenants.hasPath(path)) {
        int cap = tenants.getInt(path);
        if (cap < 1) {
          throw new IllegalArgumentException("skein.tenants." + path + " must be at least 1, got " + cap);
        }
        caps.put(name, cap);
      }
    }
    return caps;
  }

  /** The cap of {@code tenant} across the cluster, or 0 for none. */
  public int cap(String tenant) {
    return tenant == null ? 0 : perMinute.getOrDefault(tenant, 0);
  }

  public void clusterSize(int upMembers) {
    members = Math.max(1, upMembers);
  }

  /**
   * Takes a request of {@code tenant}'s from this node's share: 0 if it may be sent now, else the
   * milliseconds until it may.
   */
  public long take(String tenant, long nowNanos) {
    int cap = cap(tenant);
    if (cap == 0) {
      return 0;
    }
    double perNano = cap / (double) members / 60e9;
    return buckets.computeIfAbsent(tenant, t -> new Bucket(nowNanos)).take(perNano, nowNanos);
  }

  /**
   * A token bucket that also counts the calls it has told to wait: each refused call is given its own
   * later turn (the waits spread at the rate), not the next token that all of them would ask for at
   * once. A token taken while turns are owed settles one; a full bucket means nobody is waiting.
   */
  private static final class Bucket {
    private double tokens;
    private double promised;
    private long at;

    Bucket(long nowNanos) {
      this.tokens = Double.NaN;
      this.at = nowNanos;
    }

    synchronized long take(double perNano, long nowNanos) {
      double max = Math.max(1, perNano * BURST_SECONDS * 1e9);
      tokens = Double.isNaN(tokens) ? max : Math.min(max, tokens + (nowNanos - at) * perNano);
      at = nowNanos;
      if (tokens >= max) {
        promised = 0;
      }
      if (tokens >= 1) {
        tokens -= 1;
        promised = Math.max(0, promised - 1);
        return 0;
      }
      promised += 1;
      return Math.max(1, (long) Math.ceil((promised - tokens) / perNano / 1e6));
    }
  }
}
