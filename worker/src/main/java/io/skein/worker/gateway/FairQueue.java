package io.skein.worker.gateway;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Waiting calls, first in first out within a job, round-robin between the jobs of a tenant, and
 * round-robin between tenants before that: a job with thousands of calls queued does not hold back a
 * small job that arrives after it, and a tenant with a hundred jobs gets the turns of a tenant with
 * one (calls of no tenant take turns as one tenant). Not thread-safe; owned by one gateway actor.
 */
final class FairQueue<T> {

  private final Function<T, String> tenantOf;
  private final Function<T, String> jobOf;
  private final Map<String, Jobs> byTenant = new HashMap<>();
  /** Tenants with waiting calls, in the order they are served next. */
  private final ArrayDeque<String> turns = new ArrayDeque<>();
  private int size;

  /** Round-robin between jobs alone. */
  FairQueue(Function<T, String> jobOf) {
    this(item -> "", jobOf);
  }

  FairQueue(Function<T, String> tenantOf, Function<T, String> jobOf) {
    this.tenantOf = item -> {
      String tenant = tenantOf.apply(item);
      return tenant == null ? "" : tenant;
    };
    this.jobOf = jobOf;
  }

  /** One tenant's waiting calls: a queue per job, and the jobs in the order they are served next. */
  private final class Jobs {
    final Map<String, ArrayDeque<T>> byJob = new HashMap<>();
    final ArrayDeque<String> turns = new ArrayDeque<>();

    void add(T item) {
      String job = jobOf.apply(item);
      ArrayDeque<T> queue = byJob.get(job);
      if (queue == null) {
        queue = new ArrayDeque<>();
        byJob.put(job, queue);
        turns.addLast(job);
      }
      queue.addLast(item);
    }

    T peek() {
      return byJob.get(turns.peekFirst()).peekFirst();
    }

    T poll() {
      String job = turns.pollFirst();
      ArrayDeque<T> queue = byJob.get(job);
      T item = queue.pollFirst();
      if (queue.isEmpty()) {
        byJob.remove(job);
      } else {
        turns.addLast(job);
      }
      return item;
    }

    boolean isEmpty() {
      return turns.isEmpty();
    }

    void removeIf(Predicate<T> match, Consumer<T> removed) {
      for (Iterator<String> jobs = turns.iterator(); jobs.hasNext(); ) {
        String job = jobs.next();
        ArrayDeque<T> queue = byJob.get(job);
        for (Iterator<T> it = queue.iterator(); it.hasNext(); ) {
          T item = it.next();
          if (match.test(item)) {
            it.remove();
            size--;
            removed.accept(item);
          }
        }
        if (queue.isEmpty()) {
          byJob.remove(job);
          jobs.remove();
        }
      }
    }
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void add(T item) {
    String tenant = tenantOf.apply(item);
    Jobs jobs = byTenant.get(tenant);
    if (jobs == null) {
      jobs = new Jobs();
      byTenant.put(tenant, jobs);
      turns.addLast(tenant);
    }
    jobs.add(item);
    size++;
  }

  /** The call served next, without taking it. */
  T peek() {
    String tenant = turns.peekFirst();
    return tenant == null ? null : byTenant.get(tenant).peek();
  }

  /** Takes the call served next; its job goes to the back of its tenant's line, its tenant to the back of the line. */
  T poll() {
    String tenant = turns.pollFirst();
    if (tenant == null) {
      return null;
    }
    Jobs jobs = byTenant.get(tenant);
    T item = jobs.poll();
    size--;
    if (jobs.isEmpty()) {
      byTenant.remove(tenant);
    } else {
      turns.addLast(tenant);
    }
    return item;
  }

  /** Removes every waiting call that matches, handing each to {@code removed}. */
  void removeIf(Predicate<T> match, Consumer<T> removed) {
    for (Iterator<String> tenants = turns.iterator(); tenants.hasNext(); ) {
      String tenant = tenants.next();
      Jobs jobs = byTenant.get(tenant);
      jobs.removeIf(match, removed);
      if (jobs.isEmpty()) {
        byTenant.remove(tenant);
        tenants.remove();
      }
    }
  }
}
