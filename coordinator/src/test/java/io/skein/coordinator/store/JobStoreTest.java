package io.skein.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.worker.entity.ResultRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The jobs table and the results ledger, on H2 and (when available) PostgreSQL. */
class JobStoreTest {

  private static JobInfo job(String id, long total) {
    return new JobInfo(id, "t", "{}", List.of("topic"), "fp-" + id, false, total, 10, JobState.RUNNING, null,
        Counts.ZERO, 0, 1, 1, null, null);
  }

  private static List<Long> indexes(java.util.concurrent.CompletionStage<List<JobStore.FailedRow>> rows) {
    return rows.toCompletableFuture().join().stream().map(JobStore.FailedRow::index).toList();
  }

  private static String text(String row) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(row).get("text").asText();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void insert(SkeinDb db, JobStore store, JobInfo job) {
    db.transaction(c -> {
      store.insertJob(c, job);
      return null;
    });
  }

  private static ResultRow row(String job, long index, boolean ok, String text) {
    return new ResultRow(job, index, ok, "{\"id\":" + index + ",\"text\":\"" + text + "\"}", "{\"index\":" + index + "}", 3, 30);
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void theLedgerKeepsOneRowPerRecordWhateverIsSavedTwice(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      insert(db, store, job("j1", 5));
      store.saveResults(List.of(row("j1", 0, true, "first"), row("j1", 1, false, "first")));
      store.saveResults(List.of(row("j1", 0, true, "second"), row("j1", 2, true, "first")));

      var rows = store.results("j1", null, -1, 100, false).toCompletableFuture().join();
      assertEquals(3, rows.size());
      assertTrue(rows.get(0).row().contains("first"), "the first row saved is kept");
      assertEquals(Set.of(0L, 1L, 2L), store.finishedIndexes("j1", 0, 5).toCompletableFuture().join());
      assertEquals(Set.of(1L, 2L), store.finishedIndexes("j1", 1, 5).toCompletableFuture().join());
      Counts counts = store.counts("j1").toCompletableFuture().join();
      assertEquals(new Counts(2, 1, 9, 90), counts);
      assertEquals(1, store.results("j1", false, -1, 100, true).toCompletableFuture().join().size());
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void aRetriedRecordsRowReplacesItsErrorRowAndNeverAnOutputRow(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      insert(db, store, job("j5", 6));
      store.saveResults(List.of(row("j5", 0, true, "kept"), row("j5", 1, false, "failed"), row("j5", 2, false, "failed"),
          row("j5", 3, false, "failed"), row("j5", 4, true, "kept")));
      store.finish("j5", JobState.SUCCEEDED, null, store.counts("j5").toCompletableFuture().join(), 5).toCompletableFuture().join();
      long retriedAt = System.currentTimeMillis() + 1;
      while (System.currentTimeMillis() <= retriedAt) {
        Thread.onSpinWait(); // rows written from here on are written at or after the retry
      }
      assertEquals(List.of(1L, 2L), indexes(store.failedBefore("j5", retriedAt, -1, 2)), "a page, in index order");
      assertEquals(new JobStore.FailedRow(3, 3, 30, 0), store.failedBefore("j5", retriedAt, 2, 2).toCompletableFuture().join().get(0),
          "the next page, with what each row had counted");
      assertEquals(new Counts(2, 0, 15, 150), store.counts("j5", retriedAt).toCompletableFuture().join(),
          "the retried error rows are not counted as failed; their calls and tokens still count");
      assertTrue(store.lastFinished("j5").toCompletableFuture().join() < retriedAt, "every row is older than the retry");

      store.reopen("j5", retriedAt).toCompletableFuture().join();
      JobInfo reopened = store.job("j5").toCompletableFuture().join().orElseThrow();
      assertEquals(JobState.RUNNING, reopened.state());
      assertEquals(null, reopened.finishedAt(), "a job running again has not finished");

      // Record 1 succeeds this time, record 2 fails again, and a retried row for record 0 (an output row) changes nothing.
      store.saveResults(List.of(row("j5", 1, true, "retried").retriedAt(retriedAt), row("j5", 2, false, "again").retriedAt(retriedAt),
          row("j5", 0, true, "retried").retriedAt(retriedAt), row("j5", 5, true, "new")));
      // Record 2's new error row saved again (a record that ended reports again): kept as it is, not dated anew.
      store.saveResults(List.of(row("j5", 2, false, "twice").retriedAt(retriedAt)));
      var rows = store.results("j5", null, -1, 100, false).toCompletableFuture().join();
      assertEquals(List.of("kept", "retried", "again", "failed", "kept", "new"), rows.stream()
          .map(r -> text(r.row())).toList());
      assertEquals(List.of(3L), indexes(store.failedBefore("j5", retriedAt, -1, 10)), "only record 3 is left to retry");
      assertEquals(new Counts(4, 1, 18, 180), store.counts("j5", retriedAt).toCompletableFuture().join());
      assertEquals(new Counts(4, 2, 18, 180), store.counts("j5").toCompletableFuture().join());
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void resultsPageInIndexOrder(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      List<ResultRow> rows = new ArrayList<>();
      for (long i = 29; i >= 0; i--) {
        rows.add(row("j2", i, true, "x"));
      }
      store.saveResults(rows);
      var page1 = store.results("j2", true, -1, 10, false).toCompletableFuture().join();
      var page2 = store.results("j2", true, page1.get(9).index(), 10, false).toCompletableFuture().join();
      assertEquals(0, page1.get(0).index());
      assertEquals(10, page2.get(0).index());
      assertEquals(19, page2.get(9).index());
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void aJobRowCarriesItsStateAndCounts(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      insert(db, store, job("j3", 7));
      store.publishProgress("j3", new Counts(3, 1, 12, 400), 2, null).toCompletableFuture().join();
      JobInfo running = store.job("j3").toCompletableFuture().join().orElseThrow();
      assertEquals(new Counts(3, 1, 12, 400), running.counts());
      assertEquals(2, running.inFlight());
      assertEquals(List.of("j3"), store.runningJobIds().toCompletableFuture().join());
      store.claimCoordinator("j3", "skein@10.0.0.7:2551").toCompletableFuture().join();
      assertEquals("skein@10.0.0.7:2551", store.job("j3").toCompletableFuture().join().orElseThrow().coordinator());

      store.finish("j3", JobState.SUCCEEDED, null, new Counts(6, 1, 20, 700), 99).toCompletableFuture().join();
      JobInfo done = store.job("j3").toCompletableFuture().join().orElseThrow();
      assertEquals(JobState.SUCCEEDED, done.state());
      assertEquals(99L, done.finishedAt());
      assertEquals(List.of(), store.runningJobIds().toCompletableFuture().join());
      assertEquals("j3", store.jobByFingerprint("fp-j3").orElseThrow().id());
    }
  }
}
