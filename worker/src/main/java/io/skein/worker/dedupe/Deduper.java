package io.skein.worker.dedupe;

import io.skein.protocol.spec.DedupeSpec;
import java.util.concurrent.CompletionStage;

/**
 * The job-wide check of {@code dedupe:}: accepts a record's text unless one accepted before is too
 * close, atomically across the cluster (two near-duplicates checked at once: one is accepted).
 * Checking the same record again gives the same answer once it was accepted, so a record that
 * crashed between the check and its end is not its own duplicate.
 */
public interface Deduper {

  /** The text is unique (and now accepted), or a duplicate of record {@code of} with this similarity. */
  record Verdict(boolean unique, long of, double similarity) {
    public static final Verdict UNIQUE = new Verdict(true, -1, 0);
  }

  CompletionStage<Verdict> check(String jobId, long index, DedupeSpec spec, String text);

  /** For nodes without a store: refuses, so a spec with dedupe never runs unchecked. */
  Deduper NONE = (jobId, index, spec, text) -> java.util.concurrent.CompletableFuture.failedFuture(
      new IllegalStateException("this node has no store to dedupe against"));
}
