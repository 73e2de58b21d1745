package io.skein.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.coordinator.store.JobRetention.Outcome;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.worker.entity.ResultRow;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Deleting ended jobs, on H2 and (when available) PostgreSQL: everything a job keeps goes, and only
 * that job's — a job whose id starts another's keeps its events — and only once it has ended.
 */
class JobRetentionTest {

  private static final long DAY = Duration.ofDays(1).toMillis();

  private static void job(SkeinDb db, JobStore store, String id, JobState state, Long finishedAt, int records) {
    db.transaction(c -> {
      store.insertJob(c, new JobInfo(id, "t", "{}", List.of("topic"), null, false, records, 10, state, null,
          Counts.ZERO, 0, 1, 1, finishedAt, null));
      store.insertInputs(c, id, java.util.stream.LongStream.range(0, records)
          .mapToObj(i -> new InputRow(i, "{\"topic\":" + i + "}", null)).toList());
      journal(c, "Job|" + id, 3);
      for (int i = 0; i < records; i++) {
        journal(c, "Record|" + id + "/" + i, 2);
      }
      return null;
    });
    store.saveResults(java.util.stream.LongStream.range(0, records)
        .mapToObj(i -> new ResultRow(id, i, true, "{\"id\":" + i + "}", "{}", 1, 10)).toList());
  }

  /** Events as Pekko Persistence JDBC writes them (the payload's bytes do not matter here), with a snapshot. */
  private static void journal(java.sql.Connection c, String persistenceId, int events) throws java.sql.SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"deleted\","
        + " \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\")"
        + " VALUES (?, ?, FALSE, 'w', 1, '', ?, 1, 'm')")) {
      for (int seq = 1; seq <= events; seq++) {
        ps.setString(1, persistenceId);
        ps.setLong(2, seq);
        ps.setBytes(3, new byte[] {1, 2, 3});
        ps.addBatch();
      }
      ps.executeBatch();
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO \"snapshot\" (\"persistence_id\", \"sequence_number\", \"created\","
        + " \"snapshot_ser_id\", \"snapshot_ser_manifest\", \"snapshot_payload\") VALUES (?, 1, 1, 1, 'm', ?)")) {
      ps.setString(1, persistenceId);
      ps.setBytes(2, new byte[] {4});
      ps.executeUpdate();
    }
  }

  private static long count(SkeinDb db, String sql, String arg) {
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, arg);
        try (var rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

  /** Rows the job keeps anywhere: journal events and snapshots of its ids, inputs, rows, its job row. */
  private static long kept(SkeinDb db, String id) {
    String ids = " WHERE \"persistence_id\" = 'Job|" + id + "' OR \"persistence_id\" LIKE ?";
    return count(db, "SELECT COUNT(*) FROM \"event_journal\"" + ids, "Record|" + id + "/%")
        + count(db, "SELECT COUNT(*) FROM \"snapshot\"" + ids, "Record|" + id + "/%")
        + count(db, "SELECT COUNT(*) FROM skein_inputs WHERE job_id = ?", id)
        + count(db, "SELECT COUNT(*) FROM skein_results WHERE job_id = ?", id)
        + count(db, "SELECT COUNT(*) FROM skein_jobs WHERE id = ?", id);
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void anEndedJobIsDeletedWithAllItKeepsAndNothingElse(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      JobRetention retention = new JobRetention(db, Duration.ofSeconds(30));
      long now = System.currentTimeMillis();
      job(db, store, "j1", JobState.SUCCEEDED, now - DAY, 1200);
      job(db, store, "j11", JobState.SUCCEEDED, now - DAY, 3);
      job(db, store, "live", JobState.RUNNING, null, 2);
      job(db, store, "paused", JobState.PAUSED, null, 2);
      job(db, store, "stopping", JobState.CANCELLED, now, 2);
      long others = kept(db, "j11") + kept(db, "live") + kept(db, "paused") + kept(db, "stopping");

      assertEquals(Outcome.DELETED, retention.delete("j1").toCompletableFuture().join());
      assertEquals(0, kept(db, "j1"), "journal, snapshots, inputs, rows and the job row are gone");
      assertEquals(others, kept(db, "j11") + kept(db, "live") + kept(db, "paused") + kept(db, "stopping"),
          "other jobs keep everything, j11 too (its ids start with j1's)");
      assertEquals(Outcome.NOT_FOUND, retention.delete("j1").toCompletableFuture().join());
      assertEquals(Outcome.NOT_ENDED, retention.delete("live").toCompletableFuture().join());
      assertEquals(Outcome.NOT_ENDED, retention.delete("paused").toCompletableFuture().join());
      assertEquals(Outcome.STOPPING, retention.delete("stopping").toCompletableFuture().join());
      assertEquals(others, kept(db, "j11") + kept(db, "live") + kept(db, "paused") + kept(db, "stopping"));
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void theSweepDeletesJobsEndedBeforeTheCutoffAndTheCacheIsBounded(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      JobRetention retention = new JobRetention(db, Duration.ofSeconds(30));
      long now = System.currentTimeMillis();
      job(db, store, "old-ok", JobState.SUCCEEDED, now - 40 * DAY, 2);
      job(db, store, "old-failed", JobState.FAILED, now - 31 * DAY, 2);
      job(db, store, "old-cancelled", JobState.CANCELLED, now - 35 * DAY, 2);
      job(db, store, "recent", JobState.SUCCEEDED, now - DAY, 2);
      job(db, store, "running", JobState.RUNNING, null, 2);

      List<String> deleted = retention.deleteEndedBefore(now - 30 * DAY, 100).toCompletableFuture().join();
      assertEquals(List.of("old-ok", "old-cancelled", "old-failed"), deleted, "oldest first");
      assertEquals(0, kept(db, "old-ok") + kept(db, "old-failed") + kept(db, "old-cancelled"));
      assertEquals(List.of(), retention.deleteEndedBefore(now - 30 * DAY, 100).toCompletableFuture().join());
      assertEquals(1, count(db, "SELECT COUNT(*) FROM skein_jobs WHERE id = ?", "recent"));
      assertEquals(1, count(db, "SELECT COUNT(*) FROM skein_jobs WHERE id = ?", "running"));

      db.sync(c -> {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO skein_cache (cache_key, response, prompt_tokens, completion_tokens,"
            + " created_at) VALUES (?, 'a', 1, 1, ?)")) {
          for (int i = 0; i < 10; i++) {
            ps.setString(1, "k" + i);
            ps.setLong(2, now - i * DAY);
            ps.addBatch();
          }
          ps.executeBatch();
        }
        return null;
      });
      assertEquals(2, retention.trimCache(now - 7 * DAY - DAY / 2, 100).toCompletableFuture().join(),
          "k8 and k9 are older than the age");
      assertEquals(5, retention.trimCache(0, 3).toCompletableFuture().join(), "then the oldest beyond 3 entries");
      try (JdbcResponseCache cache = new JdbcResponseCache(db)) {
        for (String key : List.of("k0", "k1", "k2")) {
          assertEquals("a", cache.get(key).toCompletableFuture().join().orElseThrow().text(), key + " is the newest and stays");
        }
        assertEquals(java.util.Optional.empty(), cache.get("k3").toCompletableFuture().join());
      }
    }
  }
}
