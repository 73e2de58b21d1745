package io.skein.worker.gateway;

import java.util.ArrayList;
import java.util.List;

/**
 * The servers behind one model name and which one the next call goes to: among those that can
 * take it now, by smooth weighted round-robin (nginx's), each weighted by {@link
 * Lane#effectiveWeight}, so traffic follows the configured weights while every server is well, a
 * server that fails or answers slowly gets less, one whose breaker is open gets none, and a server
 * at its limits leaves the calls to the others. Pure and single-threaded, like {@link Lane}.
 */
final class Lanes {

  private final List<Lane> lanes = new ArrayList<>();
  private final double[] current;

  /** Failures in a row that open a server's breaker when the model has others to send to. */
  static final int FAILOVER_AFTER = 5;

  Lanes(List<Endpoint> endpoints, int members, long now) {
    this(endpoints, members, Integer.MAX_VALUE, now);
  }

  /** {@code connections}: the most calls any one server is sent at once from this node. */
  Lanes(List<Endpoint> endpoints, int members, int connections, long now) {
    endpoints.forEach(e -> lanes.add(new Lane(e, endpoints.size() == 1, members, connections, now)));
    current = new double[lanes.size()];
  }

  /**
   * {@code lane}'s call came back: see {@link Lane#answered}. A model's only server opens its breaker
   * after {@code failures} server-side failures in a row; one among others after at most {@link
   * #FAILOVER_AFTER}, since the others take its calls meanwhile.
   */
  Lane.Change answered(Lane lane, ModelOutcome outcome, RateLimits limits, Lane.Sent sent, long now, long nanos, int failures,
      long openForMillis) {
    int threshold = lanes.size() == 1 ? failures : Math.min(failures, FAILOVER_AFTER);
    return lane.answered(outcome, limits, sent, now, nanos, threshold, openForMillis);
  }

  List<Lane> all() {
    return lanes;
  }

  void share(int members, long now) {
    lanes.forEach(l -> l.share(members, now));
  }

  /** The lane a call of {@code estimate} tokens goes to now, or null when none can take it yet. */
  Lane pick(long estimate, long now) {
    double fastest = 0;
    for (Lane l : lanes) {
      if (l.latencyMillis() > 0 && (fastest == 0 || l.latencyMillis() < fastest)) {
        fastest = l.latencyMillis();
      }
    }
    double total = 0;
    int best = -1;
    for (int i = 0; i < lanes.size(); i++) {
      Lane l = lanes.get(i);
      if (l.readyIn(estimate, now) != 0) {
        continue;
      }
      double w = l.effectiveWeight(fastest);
      current[i] += w;
      total += w;
      if (best < 0 || current[i] > current[best]) {
        best = i;
      }
    }
    if (best < 0) {
      return null;
    }
    current[best] -= total;
    return lanes.get(best);
  }

  /** Milliseconds until some lane can take a call of {@code estimate} tokens ({@link Long#MAX_VALUE}: when an answer comes). */
  long readyIn(long estimate, long now) {
    long soonest = Long.MAX_VALUE;
    for (Lane l : lanes) {
      soonest = Math.min(soonest, l.readyIn(estimate, now));
    }
    return soonest;
  }

  /** Every lane's breaker is open: nothing can be sent until the first closes. */
  boolean allOpen(long now) {
    return lanes.stream().allMatch(l -> l.open(now));
  }

  long openFor(long now) {
    return lanes.stream().mapToLong(l -> l.openFor(now)).min().orElse(0);
  }

  int ceiling() {
    return lanes.stream().mapToInt(Lane::ceiling).sum();
  }

  int limit() {
    return lanes.stream().mapToInt(Lane::limit).sum();
  }

  int inFlight() {
    return lanes.stream().mapToInt(Lane::inFlight).sum();
  }
}
