package io.skein.coordinator.store;

import io.skein.worker.entity.ResultRow;
import io.skein.worker.entity.ResultSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes ledger rows in batches: records finishing together share one INSERT round trip. A
 * record's save completes only once its row is committed, so a record reports nothing that could
 * still be lost. One writer thread of its own; actors only see the returned CompletionStage.
 */
public final class BatchingResultSink implements ResultSink, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BatchingResultSink.class);
  private static final int MAX_BATCH = 500;

  private record Pending(ResultRow row, CompletableFuture<Done> done) {}

  private final JobStore store;
  private final BatchingThread<Pending> writer;
  private final io.micrometer.core.instrument.DistributionSummary batches;

  public BatchingResultSink(JobStore store) {
    this(store, new io.micrometer.core.instrument.composite.CompositeMeterRegistry());
  }

  /** As above, with the rows per write in {@code skein_ledger_batch_rows}. */
  public BatchingResultSink(JobStore store, io.micrometer.core.instrument.MeterRegistry registry) {
    this.store = store;
    this.batches = io.micrometer.core.instrument.DistributionSummary.builder("skein.ledger.batch").baseUnit("rows")
        .description("Ledger rows written per INSERT round trip").register(registry);
    this.writer = new BatchingThread<>("skein-ledger-writer", MAX_BATCH, this::write, (batch, error) -> {
      log.error("could not write {} ledger rows", batch.size(), error);
      batch.forEach(p -> p.done().completeExceptionally(error));
    });
  }

  @Override
  public CompletionStage<Done> saveIfAbsent(ResultRow row) {
    CompletableFuture<Done> done = new CompletableFuture<>();
    if (!writer.add(new Pending(row, done))) {
      done.completeExceptionally(new IllegalStateException("the ledger writer is closed"));
    }
    return done;
  }

  private void write(List<Pending> batch) {
    batches.record(batch.size());
    List<ResultRow> rows = new ArrayList<>(batch.size());
    batch.forEach(p -> rows.add(p.row()));
    try {
      store.saveResults(rows);
      batch.forEach(p -> p.done().complete(Done.getInstance()));
    } catch (RuntimeException e) {
      log.warn("could not write {} ledger rows: {}", rows.size(), e.getMessage());
      batch.forEach(p -> p.done().completeExceptionally(e));
    }
  }

  @Override
  public void close() {
    writer.close();
  }
}
