package io.skein.worker.entity;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/** The results ledger: saving a row twice keeps the first (a record may end twice after a crash). */
public interface ResultSink {

  CompletionStage<Done> saveIfAbsent(ResultRow row);
}
