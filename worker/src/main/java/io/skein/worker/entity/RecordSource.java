package io.skein.worker.entity;

import java.util.concurrent.CompletionStage;

/** Loads a record's context from wherever jobs are stored; fails with {@link UnknownJobException}. */
public interface RecordSource {

  CompletionStage<RecordContext> load(String jobId, long index);

  /** The job (or this record of it) does not exist: the record cannot run and stops. */
  final class UnknownJobException extends RuntimeException {
    public UnknownJobException(String message) {
      super(message);
    }
  }
}
