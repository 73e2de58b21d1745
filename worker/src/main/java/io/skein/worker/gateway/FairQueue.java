package io.skein.worker.gateway;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Waiting calls, first in first out within a job and round-robin between jobs: a job with
 * thousands of calls queued does not hold back a small job that arrives after it. Not thread-safe;
 * owned by one gateway actor.
 */
final class FairQueue<T> {

  private final Function<T, String> jobOf;
  private final Map<String, ArrayDeque<T>> byJob = new HashMap<>();
  /** Jobs with waiting calls, in the order they are served next. */
  private final ArrayDeque<String> turns = new ArrayDeque<>();
  private int size;

  FairQueue(Function<T, String> jobOf) {
    this.jobOf = jobOf;
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void add(T item) {
    String job = jobOf.apply(item);
    ArrayDeque<T> queue = byJob.get(job);
    if (queue == null) {
      queue = new ArrayDeque<>();
      byJob.put(job, queue);
      turns.addLast(job);
    }
    queue.addLast(item);
    size++;
  }

  /** The call served next, without taking it. */
  T peek() {
    String job = turns.peekFirst();
    return job == null ? null : byJob.get(job).peekFirst();
  }

  /** Takes the call served next; its job goes to the back of the line. */
  T poll() {
    String job = turns.pollFirst();
    if (job == null) {
      return null;
    }
    ArrayDeque<T> queue = byJob.get(job);
    T item = queue.pollFirst();
    size--;
    if (queue.isEmpty()) {
      byJob.remove(job);
    } else {
      turns.addLast(job);
    }
    return item;
  }

  /** Removes every waiting call that matches, handing each to {@code removed}. */
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
