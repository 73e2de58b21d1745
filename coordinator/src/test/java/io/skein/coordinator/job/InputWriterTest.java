package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.coordinator.store.InputTable;
import io.skein.coordinator.store.JobRetention;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.coordinator.store.SkeinDb;
import io.skein.coordinator.store.TestDatabases;
import io.skein.protocol.spec.SpecException;
import java.sql.DriverManager;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Inputs stored as they are read: batches committed on their own, repeated ids found by the database, nothing left after a failure. */
class InputWriterTest {

  /** {@code n} rows made one at a time, as an upload's are read: {@code record(i)} is row i's JSON. */
  private static Iterator<InputRow> rows(long n, LongFunction<String> record) {
    return new Iterator<>() {
      private long i;

      @Override
      public boolean hasNext() {
        return i < n;
      }

      @Override
      public InputRow next() {
        if (i == n) {
          throw new NoSuchElementException();
        }
        long index = i++;
        return new InputRow(index, record.apply(index), null);
      }
    };
  }

  private static Iterator<InputRow> ids(long n, long repeatAt, long repeatOf) {
    return RecordIds.scalar(rows(n, i -> "{\"id\":\"r" + (i == repeatAt ? repeatOf : i) + "\",\"topic\":\"t" + i + "\"}"));
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void eachBatchIsCommittedOnItsOwnWhileTheRowsAreStillBeingRead(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      long[] seenMidway = {-1};
      Iterator<InputRow> source = ids(25_000, -1, -1);
      Iterator<InputRow> watched = new Iterator<>() {
        @Override
        public boolean hasNext() {
          return source.hasNext();
        }

        @Override
        public InputRow next() {
          InputRow row = source.next();
          if (row.index() == 15_000) {
            seenMidway[0] = InputTable.count(db, "j1");
          }
          return row;
        }
      };
      assertEquals(25_000, new InputWriter(new JobStore(db), 1_000_000).write("j1", watched));
      assertEquals(InputWriter.BATCH_ROWS, seenMidway[0], "another connection sees the first batch before the last row is read");
      assertEquals(25_000, InputTable.count(db, "j1"));
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void aRepeatedIdDeepInTheRowsNamesBothRecordsAndNothingIsLeftBehind(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      InputWriter writer = new InputWriter(store, 1_000_000);
      SpecException across = assertThrows(SpecException.class, () -> writer.write("j2", ids(30_000, 23_456, 5)));
      assertTrue(across.getMessage().contains("records 5 and 23456 (counting from 0) both have id \"r5\""), across.getMessage());
      assertTrue(InputTable.count(db, "j2") >= 20_000, "the batches before the repeat were stored");
      writer.deleteAll(across);
      assertEquals(0, InputTable.count(db, "j2"));

      InputWriter again = new InputWriter(store, 1_000_000);
      SpecException within = assertThrows(SpecException.class, () -> again.write("j3", ids(30_000, 20_012, 20_003)));
      assertTrue(within.getMessage().contains("records 20003 and 20012 (counting from 0) both have id \"r20003\""), within.getMessage());
      again.deleteAll(within);
      assertEquals(0, InputTable.count(db, "j3"));

      assertEquals(3, new InputWriter(store, 10).write("j4", RecordIds.scalar(rows(3,
          i -> i == 0 ? "{\"id\":\"7\"}" : i == 1 ? "{\"id\":7}" : "{\"topic\":\"no id\"}"))), "the string \"7\" and the number 7 differ");
      assertEquals(2, new InputWriter(store, 10).write("j5", RecordIds.scalar(rows(2, i -> "{\"topic\":\"no id\"}"))),
          "records without ids never clash");
      assertEquals(2, new InputWriter(store, 10).write("j6", ids(2, -1, -1)), "ids are unique per job, not across jobs");
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void theInputsOfASubmissionWhoseNodeDiedPartWayAreSweptAndNoOthers(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      new InputWriter(store, 1_000_000).write("dead", ids(25_000, -1, -1));  // the node dies here: no job row, no clean-up
      InputWriter done = new InputWriter(store, 1_000_000);
      done.write("done", ids(3, -1, -1));
      db.transaction(c -> {
        done.stored(c);  // as the job row's transaction does
        return null;
      });
      long cutoff = System.currentTimeMillis() + 1;
      while (System.currentTimeMillis() <= cutoff) {
        Thread.onSpinWait();  // a millisecond: the next submission begins after the cutoff
      }
      new InputWriter(store, 1_000_000).write("uploading", ids(5, -1, -1));  // another node's, still coming in

      JobRetention retention = new JobRetention(db, java.time.Duration.ofSeconds(1));
      assertEquals(java.util.List.of("dead"), retention.deleteAbandonedUploads(cutoff, 100).toCompletableFuture().get());
      assertEquals(0, InputTable.count(db, "dead"));
      assertEquals(3, InputTable.count(db, "done"), "a job's inputs are never swept");
      assertEquals(5, InputTable.count(db, "uploading"), "nor those of a submission begun after the cutoff");
      assertEquals(java.util.List.of(), retention.deleteAbandonedUploads(cutoff, 100).toCompletableFuture().get(), "swept once");
    }
  }

  @Test
  void moreRowsThanTheServerTakesAreRefusedAndRemoved() throws Exception {
    try (SkeinDb db = TestDatabases.open("h2")) {
      InputWriter writer = new InputWriter(new JobStore(db), 15_000);
      SpecException e = assertThrows(SpecException.class, () -> writer.write("j", ids(20_000, -1, -1)));
      assertTrue(e.getMessage().contains("at most 15000 per job"), e.getMessage());
      writer.deleteAll(e);
      assertEquals(0, InputTable.count(db, "j"));
    }
  }

  @Test
  void aDatabaseMadeBeforeIdHashesKeepsItsInputsAndGainsTheCheck() throws Exception {
    String url = TestDatabases.freshH2();
    try (var c = DriverManager.getConnection(url); var s = c.createStatement()) {
      s.execute("CREATE TABLE skein_inputs (job_id VARCHAR(64) NOT NULL, idx BIGINT NOT NULL, record TEXT, error TEXT,"
          + " PRIMARY KEY (job_id, idx))");
      s.execute("INSERT INTO skein_inputs VALUES ('old', 0, '{\"id\":\"a\"}', NULL), ('old', 1, '{\"id\":\"a\"}', NULL)");
      try (SkeinDb db = SkeinDb.open(url, null, null, 2)) {
        JobStore store = new JobStore(db);
        assertEquals(2, store.inputs("old", 0, 10).toCompletableFuture().join().size());
        SpecException e = assertThrows(SpecException.class, () -> new InputWriter(store, 10).write("new", ids(3, 2, 0)));
        assertTrue(e.getMessage().contains("records 0 and 2"), e.getMessage());
      }
    }
  }
}
