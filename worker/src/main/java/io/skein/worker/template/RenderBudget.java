package io.skein.worker.template;

/**
 * The time one render may take ({@link #MAX_MILLIS}), checked before every template node Jinjava
 * renders (its node pre-processor), so nested loops over the allowed ranges and lists are cut off
 * within the budget. Jinjava has no timeout of its own; output, string, list and range sizes it
 * bounds itself. The time is the rendering thread's own CPU time where the JVM measures it (wall
 * time elsewhere): on a busy node a render that waits for a core, or for a collection, is not cut
 * off for the time it did not run.
 */
final class RenderBudget implements AutoCloseable {

  /** The most wall time one render may take. */
  static final long MAX_MILLIS = 1_000;

  private static final ThreadLocal<RenderBudget> CURRENT = new ThreadLocal<>();
  private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();
  private static final boolean CPU_TIME = THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();

  /** Thrown from inside Jinjava once the budget is spent; whatever catches it, {@link #exceeded} says so. */
  static final class Exceeded extends RuntimeException {
    Exceeded() {
      super(message(), null, false, false);
    }
  }

  private final long deadline;
  private final RenderBudget outer;
  private boolean exceeded;

  private RenderBudget(long deadline, RenderBudget outer) {
    this.deadline = deadline;
    this.outer = outer;
  }

  static String message() {
    return "the template ran past its budget of " + MAX_MILLIS + " ms and was cut off (nested loops?)";
  }

  static RenderBudget start() {
    RenderBudget outer = CURRENT.get();
    RenderBudget budget = new RenderBudget(outer != null ? outer.deadline : now() + MAX_MILLIS * 1_000_000, outer);
    CURRENT.set(budget);
    return budget;
  }

  /** Throws {@link Exceeded} once the current render's budget is spent. */
  static void check() {
    RenderBudget budget = CURRENT.get();
    if (budget != null && (budget.exceeded || now() > budget.deadline)) {
      budget.exceeded = true;
      throw new Exceeded();
    }
  }

  private static long now() {
    return CPU_TIME ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
  }

  boolean exceeded() {
    return exceeded;
  }

  @Override
  public void close() {
    if (outer == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(outer);
    }
  }
}
