package io.skein.worker.template;

/**
 * The time one render may take ({@link #MAX_MILLIS}), checked before every template node Jinjava
 * renders (its node pre-processor), so nested loops over the allowed ranges and lists are cut off
 * within the budget. Jinjava has no timeout of its own; output, string, list and range sizes it
 * bounds itself.
 */
final class RenderBudget implements AutoCloseable {

  /** The most wall time one render may take. */
  static final long MAX_MILLIS = 1_000;

  private static final ThreadLocal<RenderBudget> CURRENT = new ThreadLocal<>();

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
    RenderBudget budget = new RenderBudget(outer != null ? outer.deadline : System.nanoTime() + MAX_MILLIS * 1_000_000, outer);
    CURRENT.set(budget);
    return budget;
  }

  /** Throws {@link Exceeded} once the current render's budget is spent. */
  static void check() {
    RenderBudget budget = CURRENT.get();
    if (budget != null && (budget.exceeded || System.nanoTime() > budget.deadline)) {
      budget.exceeded = true;
      throw new Exceeded();
    }
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
