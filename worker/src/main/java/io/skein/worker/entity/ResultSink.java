package io.skein.worker.entity;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/**
 * The results ledger: saving a row twice keeps the first (a record may end twice after a crash),
 * except that a {@link ResultRow#retried() retried} record's row replaces its error row from before
 * the retry (a row written since, saved again, is kept as it is).
 */
public interface ResultSink {

  CompletionStage<Done> saveIfAbsent(ResultRow row);
}
