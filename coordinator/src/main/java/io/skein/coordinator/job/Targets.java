package io.skein.coordinator.job;

/**
 * How far a job with {@code target: N} may start records, decided from what has ended: one record
 * for each row still wanted and each that failed, within the pool ({@code max_records}); once N
 * have passed, none beyond those already started, which still end (their passing rows are extras).
 */
final class Targets {

  private Targets() {}

  /**
   * The index below which records may be started: never below {@code started} (what was sent goes on),
   * and, after a recovery, up to {@code mustFinish} (the persisted dispatch mark: records that may have
   * been sent before it, which end before the job does, so the output is never changed afterwards).
   */
  static long startable(long target, long pool, long passed, long failed, long started, long mustFinish) {
    if (passed >= target) {
      return Math.max(started, Math.min(mustFinish, pool));
    }
    return Math.max(started, Math.min(pool, target + failed));
  }

  /** Why a job that started every record of its pool ended short of its target, or null if it did not. */
  static String shortfall(long target, long pool, long passed) {
    return passed >= target ? null
        : "max_records (" + pool + ") reached with " + passed + " of the " + target + " rows `target` asks for passed;"
            + " every row is kept (raise max_records, or look at the error rows for why so many failed)";
  }
}
