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

  private static ResultRow row(String job, long index, boolean ok, String text) {
    return new ResultRow(job, index, ok, "{\"id\":" + index + ",\"text\":\"" + text + "\"}", "{\"index\":" + index + "}", 3, 30);
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void theLedgerKeepsOneRowPerRecordWhateverIsSavedTwice(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      db.transaction(c -> {
        store.insertJob(c, job("j1", 5));
        return null;
      });
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
      db.transaction(c -> {
        store.insertJob(c, job("j3", 7));
        return null;
      });
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
