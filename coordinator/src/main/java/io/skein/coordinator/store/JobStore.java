package io.skein.coordinator.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.worker.entity.ResultRow;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Queries on Skein's tables: jobs, their inputs, and the results ledger (one row per record).
 *
 * <p>Size: every SQL statement on jobs, inputs and the ledger, kept together so the schema is read
 * in one place.
 */
public final class JobStore {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JOB_COLUMNS =
      "id, name, spec, fields, fingerprint, generated, total, max_in_flight, state, reason, succeeded, failed, "
          + "in_flight, calls, tokens, created_at, updated_at, finished_at, coordinator, waiting, parent_id, stage, feed, cost_nanos";

  /** Rows of jobs that run records (not the row of a staged job, whose stages do). */
  private static final String HAS_COORDINATOR =
      " AND id NOT IN (SELECT parent_id FROM skein_jobs WHERE parent_id IS NOT NULL)";

  /** One input line: its JSON, or why it could not be read. */
  public record InputRow(long index, String record, String error) {}

  /** One ledger row, as exports read it. */
  public record LedgerRow(long index, boolean ok, String row, String detail) {}

  private final SkeinDb db;
  private final StageStore stages;

  public JobStore(SkeinDb db) {
    this.db = db;
    this.stages = new StageStore(this);
  }

  /** The tables of staged jobs. */
  public StageStore stages() {
    return stages;
  }

  public SkeinDb db() {
    return db;
  }

  // ---- jobs

  public void insertJob(Connection c, JobInfo job) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO skein_jobs (" + JOB_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, job.id());
      ps.setString(2, job.name());
      ps.setString(3, job.spec());
      ps.setString(4, toJson(job.fields()));
      ps.setString(5, job.fingerprint());
      ps.setBoolean(6, job.generated());
      ps.setLong(7, job.total());
      ps.setInt(8, job.maxInFlight());
      ps.setString(9, job.state().wireName());
      ps.setString(10, job.reason());
      ps.setLong(11, job.counts().succeeded());
      ps.setLong(12, job.counts().failed());
      ps.setLong(13, job.inFlight());
      ps.setLong(14, job.counts().calls());
      ps.setLong(15, job.counts().tokens());
      ps.setLong(16, job.createdAt());
      ps.setLong(17, job.updatedAt());
      ps.setObject(18, job.finishedAt());
      ps.setString(19, job.coordinator());
      ps.setString(20, job.waiting());
      ps.setString(21, job.stage() == null ? null : job.stage().parentId());
      ps.setString(22, job.stage() == null ? null : job.stage().name());
      ps.setString(23, job.stage() == null ? null : job.stage().feed());
      ps.setLong(24, job.counts().costNanos());
      ps.executeUpdate();
    }
  }

  /** The fingerprints of what a job was made of (see {@code Fingerprints}), as JSON. */
  public void saveFingerprints(Connection c, String jobId, String json) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE skein_jobs SET parts = ? WHERE id = ?")) {
      ps.setString(1, json);
      ps.setString(2, jobId);
      ps.executeUpdate();
    }
  }

  /** The latest job (not a stage) of a spec name, and its parts' fingerprints (null if it kept none). */
  public Optional<Map.Entry<JobInfo, String>> latestByName(String name) {
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT id, parts FROM skein_jobs WHERE name = ? AND parent_id IS NULL"
          + " ORDER BY created_at DESC")) {
        ps.setString(1, name);
        ps.setMaxRows(1);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          String id = rs.getString(1);
          String parts = rs.getString(2);
          return findJob(c, "WHERE id = ?", id).map(j -> Map.entry(j, parts == null ? "" : parts));
        }
      }
    });
  }

  public void insertInputs(Connection c, String jobId, List<InputRow> rows) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO skein_inputs (job_id, idx, record, error) VALUES (?, ?, ?, ?)")) {
      for (InputRow row : rows) {
        ps.setString(1, jobId);
        ps.setLong(2, row.index());
        ps.setString(3, row.record());
        ps.setString(4, row.error());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** Who owns a job (or a stage): its tenant, null for none. */
  public record Owner(String tenant) {}

  /** Gives a job and its stages to a tenant, in the transaction that stores them. */
  public void setTenant(Connection c, String id, String tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE skein_jobs SET tenant = ? WHERE id = ? OR parent_id = ?")) {
      ps.setString(1, tenant);
      ps.setString(2, id);
      ps.setString(3, id);
      ps.executeUpdate();
    }
  }

  /** The owner of a job or stage; empty if there is no such job. */
  public CompletionStage<Optional<Owner>> owner(String id) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT tenant FROM skein_jobs WHERE id = ?")) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(new Owner(rs.getString(1))) : Optional.<Owner>empty();
        }
      }
    });
  }

  public CompletionStage<Optional<JobInfo>> job(String id) {
    return db.async(c -> findJob(c, "WHERE id = ?", id));
  }

  public Optional<JobInfo> jobByFingerprint(String fingerprint) {
    return db.sync(c -> findJob(c, "WHERE fingerprint = ? ORDER BY created_at DESC", fingerprint));
  }

  public CompletionStage<List<JobInfo>> jobs(int limit) {
    return jobs(limit, null);
  }

  /** The newest jobs (not stages), of one tenant's ({@code tenant} null: of every tenant). */
  public CompletionStage<List<JobInfo>> jobs(int limit, String tenant) {
    return db.async(c -> {
      List<JobInfo> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM skein_jobs WHERE parent_id IS NULL"
          + (tenant == null ? "" : " AND tenant = ?") + " ORDER BY created_at DESC")) {
        if (tenant != null) {
          ps.setString(1, tenant);
        }
        ps.setMaxRows(limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(readJob(rs));
          }
        }
      }
      return out;
    });
  }

  /** Jobs whose coordinators were running: jobs of one stage, and the stages of staged jobs. */
  public CompletionStage<List<String>> runningJobIds() {
    return db.async(c -> {
      List<String> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM skein_jobs WHERE state = ?" + HAS_COORDINATOR)) {
        ps.setString(1, JobState.RUNNING.wireName());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
      }
      return out;
    });
  }

  /** The running jobs and the window (records in flight) each asks for. */
  public CompletionStage<Map<String, Integer>> runningWindows() {
    return running().thenApply(all -> {
      Map<String, Integer> out = new HashMap<>();
      all.forEach((id, r) -> out.put(id, r.window()));
      return out;
    });
  }

  /** A running job's window and tenant (null: none). */
  public record Running(int window, String tenant) {}

  /** The running jobs: the window (records in flight) each asks for, and whose each is. */
  public CompletionStage<Map<String, Running>> running() {
    return db.async(c -> {
      Map<String, Running> out = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id, max_in_flight, tenant FROM skein_jobs WHERE state = ?" + HAS_COORDINATOR)) {
        ps.setString(1, JobState.RUNNING.wireName());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), new Running(rs.getInt(2), rs.getString(3)));
          }
        }
      }
      return out;
    });
  }

  /** A job's progress while it runs: counts (live), records in flight, and what they wait for (null: nothing). */
  public CompletionStage<Void> publishProgress(String id, Counts counts, long inFlight, String waiting) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_jobs SET succeeded = ?, failed = ?, calls = ?, tokens = ?, "
          + "in_flight = ?, updated_at = ?, waiting = ?, cost_nanos = ? WHERE id = ? AND state IN (?, ?)")) {
        ps.setLong(1, counts.succeeded());
        ps.setLong(2, counts.failed());
        ps.setLong(3, counts.calls());
        ps.setLong(4, counts.tokens());
        ps.setLong(5, inFlight);
        ps.setLong(6, System.currentTimeMillis());
        ps.setString(7, waiting);
        ps.setLong(8, counts.costNanos());
        ps.setString(9, id);
        ps.setString(10, JobState.RUNNING.wireName());
        ps.setString(11, JobState.PAUSED.wireName());
        ps.executeUpdate();
      }
      return null;
    }).thenCompose(done -> stages.settleParentOf(id));
  }

  /**
   * Moves a job that has not ended between running and paused, with its progress at that moment
   * (null: leave the published progress as it is); {@code reason} says why it is paused (null clears it).
   */
  public CompletionStage<Void> setActive(String id, JobState state, String reason, Counts counts, long inFlight, long at) {
    if (state.isTerminal()) {
      throw new IllegalArgumentException(state + " ends a job: use finish");
    }
    String progress = counts == null ? "" : ", succeeded = ?, failed = ?, calls = ?, tokens = ?, in_flight = ?, cost_nanos = ?";
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE skein_jobs SET state = ?, reason = ?" + progress + ", updated_at = ? WHERE id = ? AND state IN (?, ?)")) {
        int i = 1;
        ps.setString(i++, state.wireName());
        ps.setString(i++, reason);
        if (counts != null) {
          ps.setLong(i++, counts.succeeded());
          ps.setLong(i++, counts.failed());
          ps.setLong(i++, counts.calls());
          ps.setLong(i++, counts.tokens());
          ps.setLong(i++, inFlight);
          ps.setLong(i++, counts.costNanos());
        }
        ps.setLong(i++, at);
        ps.setString(i++, id);
        ps.setString(i++, JobState.RUNNING.wireName());
        ps.setString(i, JobState.PAUSED.wireName());
        ps.executeUpdate();
      }
      return null;
    }).thenCompose(done -> stages.settleParentOf(id));
  }

  /** An ended job runs again (its failed records are retried): its row says running, with no end. */
  public CompletionStage<Void> reopen(String id, long at) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_jobs SET state = ?, reason = NULL, finished_at = NULL, updated_at = ?"
          + " WHERE id = ? AND state IN (?, ?)")) {
        ps.setString(1, JobState.RUNNING.wireName());
        ps.setLong(2, at);
        ps.setString(3, id);
        ps.setString(4, JobState.SUCCEEDED.wireName());
        ps.setString(5, JobState.FAILED.wireName());
        ps.executeUpdate();
      }
      return null;
    });
  }

  /** Records which node now runs the job's coordinator. */
  public CompletionStage<Void> claimCoordinator(String id, String node) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_jobs SET coordinator = ? WHERE id = ?")) {
        ps.setString(1, node);
        ps.setString(2, id);
        ps.executeUpdate();
      }
      return null;
    });
  }

  public CompletionStage<Void> finish(String id, JobState state, String reason, Counts counts, long at) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_jobs SET state = ?, reason = COALESCE(?, reason), succeeded = ?, failed = ?, "
          + "calls = ?, tokens = ?, in_flight = 0, updated_at = ?, finished_at = ?, cost_nanos = ? WHERE id = ?")) {
        ps.setString(1, state.wireName());
        ps.setString(2, reason);
        ps.setLong(3, counts.succeeded());
        ps.setLong(4, counts.failed());
        ps.setLong(5, counts.calls());
        ps.setLong(6, counts.tokens());
        ps.setLong(7, at);
        ps.setLong(8, at);
        ps.setLong(9, counts.costNanos());
        ps.setString(10, id);
        ps.executeUpdate();
      }
      return null;
    }).thenCompose(done -> stages.settleParentOf(id));
  }

  List<JobInfo> findJobs(Connection c, String where, String arg) throws SQLException {
    List<JobInfo> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM skein_jobs " + where)) {
      ps.setString(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(readJob(rs));
        }
      }
    }
    return out;
  }

  private Optional<JobInfo> findJob(Connection c, String where, String arg) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM skein_jobs " + where)) {
      ps.setString(1, arg);
      ps.setMaxRows(1);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(readJob(rs)) : Optional.empty();
      }
    }
  }

  private static JobInfo readJob(ResultSet rs) throws SQLException {
    long finished = rs.getLong(18);
    boolean unfinished = rs.wasNull();
    return new JobInfo(
        rs.getString(1), rs.getString(2), rs.getString(3), fromJson(rs.getString(4)), rs.getString(5), rs.getBoolean(6),
        rs.getLong(7), rs.getInt(8), JobState.valueOf(rs.getString(9).toUpperCase(Locale.ROOT)), rs.getString(10),
        new Counts(rs.getLong(11), rs.getLong(12), rs.getLong(14), rs.getLong(15), rs.getLong(24)), rs.getLong(13),
        rs.getLong(16), rs.getLong(17), unfinished ? null : finished, rs.getString(19), rs.getString(20),
        rs.getString(22) == null ? null : new JobInfo.StageInfo(rs.getString(21), rs.getString(22), rs.getString(23)));
  }

  // ---- inputs

  public CompletionStage<List<InputRow>> inputs(String jobId, long from, long toExclusive) {
    return db.async(c -> {
      List<InputRow> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT idx, record, error FROM skein_inputs WHERE job_id = ? AND idx >= ? AND idx < ? ORDER BY job_id, idx")) {
        ps.setString(1, jobId);
        ps.setLong(2, from);
        ps.setLong(3, toExclusive);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new InputRow(rs.getLong(1), rs.getString(2), rs.getString(3)));
          }
        }
      }
      return out;
    });
  }

  // ---- results ledger

  /**
   * Inserts rows, keeping any row already there for the same record, except that a retried
   * record's row replaces its error row from before the retry (both in one transaction, so the
   * record never has none; a row written after the retry and saved again keeps its time).
   */
  public void saveResults(List<ResultRow> rows) {
    List<ResultRow> retried = rows.stream().filter(ResultRow::retried).toList();
    List<ResultRow> first = retried.isEmpty() ? rows : rows.stream().filter(r -> !r.retried()).toList();
    if (!first.isEmpty()) {
      db.sync(c -> insertResults(c, first));
    }
    if (!retried.isEmpty()) {
      db.transaction(c -> {
        try (PreparedStatement ps = c.prepareStatement(
            "DELETE FROM skein_results WHERE job_id = ? AND idx = ? AND ok = FALSE AND finished_at < ?")) {
          for (ResultRow r : retried) {
            ps.setString(1, r.jobId());
            ps.setLong(2, r.index());
            ps.setLong(3, r.retriedAt());
            ps.addBatch();
          }
          ps.executeBatch();
        }
        return insertResults(c, retried);
      });
    }
  }

  private Void insertResults(Connection c, List<ResultRow> rows) throws SQLException {
    long now = System.currentTimeMillis();
    String sql = "INSERT INTO skein_results (job_id, idx, ok, row_json, detail, calls, tokens, finished_at, datasets, cost_nanos)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        + (db.dialect() == SkeinDb.Dialect.POSTGRES ? " ON CONFLICT DO NOTHING" : "");
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (ResultRow r : rows) {
        bind(ps, r, now);
        ps.addBatch();
      }
      ps.executeBatch();
    } catch (BatchUpdateException e) {
      if (!isDuplicate(e)) {
        throw e;
      }
      // H2 has no ON CONFLICT: some row was already there; insert one by one, skipping duplicates.
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (ResultRow r : rows) {
          bind(ps, r, now);
          try {
            ps.executeUpdate();
          } catch (SQLException dup) {
            if (!isDuplicate(dup)) {
              throw dup;
            }
          }
        }
      }
    }
    return null;
  }

  private static void bind(PreparedStatement ps, ResultRow r, long now) throws SQLException {
    ps.setString(1, r.jobId());
    ps.setLong(2, r.index());
    ps.setBoolean(3, r.succeeded());
    ps.setString(4, r.row());
    ps.setString(5, r.detail());
    ps.setInt(6, r.calls());
    ps.setLong(7, r.tokens());
    ps.setLong(8, now);
    ps.setString(9, r.datasets());
    ps.setLong(10, r.costNanos());
  }

  private static boolean isDuplicate(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      if ("23505".equals(x.getSQLState())) {
        return true;
      }
    }
    return e.getMessage() != null && e.getMessage().contains("23505");
  }

  public CompletionStage<Set<Long>> finishedIndexes(String jobId, long from, long toExclusive) {
    return db.async(c -> {
      Set<Long> out = new HashSet<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT idx FROM skein_results WHERE job_id = ? AND idx >= ? AND idx < ?")) {
        ps.setString(1, jobId);
        ps.setLong(2, from);
        ps.setLong(3, toExclusive);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getLong(1));
          }
        }
      }
      return out;
    });
  }

  public CompletionStage<Counts> counts(String jobId) {
    return counts(jobId, 0);
  }

  /**
   * The ledger's counts; with {@code retriedAt} (0: none), the error rows written before it are not
   * counted as failed (those records run again) while their calls, tokens and cost still count.
   */
  public CompletionStage<Counts> counts(String jobId, long retriedAt) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT SUM(CASE WHEN ok THEN 1 ELSE 0 END),"
          + " SUM(CASE WHEN NOT ok AND finished_at >= ? THEN 1 ELSE 0 END), SUM(calls), SUM(tokens), SUM(cost_nanos)"
          + " FROM skein_results WHERE job_id = ?")) {
        ps.setLong(1, retriedAt);
        ps.setString(2, jobId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return new Counts(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5));
        }
      }
    });
  }

  /** The latest time a row of the job was written (0: none), after which a retry of its failed records is dated. */
  public CompletionStage<Long> lastFinished(String jobId) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT MAX(finished_at) FROM skein_results WHERE job_id = ?")) {
        ps.setString(1, jobId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? rs.getLong(1) : 0L;
        }
      }
    });
  }

  /** A failed record's error row, as a retry reads it: what it had spent, which its next row's counts include again. */
  public record FailedRow(long index, long calls, long tokens, long costNanos) {}

  /** Up to {@code limit} records after {@code afterIndex}, in index order, whose error rows were written before {@code retriedAt}. */
  public CompletionStage<List<FailedRow>> failedBefore(String jobId, long retriedAt, long afterIndex, int limit) {
    return db.async(c -> {
      List<FailedRow> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT idx, calls, tokens, cost_nanos FROM skein_results WHERE job_id = ? AND idx > ? AND ok = FALSE"
          + " AND finished_at < ? ORDER BY job_id, idx LIMIT ?")) {
        ps.setString(1, jobId);
        ps.setLong(2, afterIndex);
        ps.setLong(3, retriedAt);
        ps.setInt(4, limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new FailedRow(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
          }
        }
      }
      return out;
    });
  }

  /** A page of the ledger after {@code afterIndex}, in index order; {@code ok} null means both kinds. */
  public CompletionStage<List<LedgerRow>> results(String jobId, Boolean ok, long afterIndex, int limit, boolean withDetail) {
    return db.async(c -> {
      List<LedgerRow> out = new ArrayList<>();
      // ORDER BY job_id, idx and LIMIT in the SQL: H2 then reads the page off the primary key and stops.
      // With ORDER BY idx (and setMaxRows) it sorted all the job's rows past the mark for every page:
      // a second a page at 300,000 rows, hours to read a million (docs/benchmarks.md, 2026-12-07).
      String sql = "SELECT idx, ok, row_json" + (withDetail ? ", detail" : "") + " FROM skein_results WHERE job_id = ? AND idx > ?"
          + (ok == null ? "" : " AND ok = ?") + " ORDER BY job_id, idx LIMIT ?";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, jobId);
        ps.setLong(2, afterIndex);
        if (ok != null) {
          ps.setBoolean(3, ok);
        }
        ps.setInt(ok == null ? 3 : 4, limit);
        ps.setFetchSize(limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new LedgerRow(rs.getLong(1), rs.getBoolean(2), rs.getString(3), withDetail ? rs.getString(4) : null));
          }
        }
      }
      return out;
    });
  }

  /**
   * The index of a job's {@code rows}-th output row (by index), or empty when it has fewer: where
   * the output of a job with a target ends and its extras begin.
   */
  public CompletionStage<java.util.OptionalLong> nthOutputIndex(String jobId, long rows) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT idx FROM skein_results WHERE job_id = ? AND ok = ? ORDER BY job_id, idx LIMIT 1 OFFSET ?")) {
        ps.setString(1, jobId);
        ps.setBoolean(2, true);
        ps.setLong(3, rows - 1);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? java.util.OptionalLong.of(rs.getLong(1)) : java.util.OptionalLong.empty();
        }
      }
    });
  }

  /** How many of a job's records its {@code dedupe} found duplicates. */
  public CompletionStage<Long> duplicates(String jobId) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM skein_dedupe WHERE job_id = ? AND duplicate_of IS NOT NULL")) {
        ps.setString(1, jobId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

  /** A page of one extra dataset's rows after {@code afterIndex}, in index order: (index, row) of succeeded records. */
  public CompletionStage<List<LedgerRow>> datasetRows(String jobId, String dataset, long afterIndex, int limit) {
    return db.async(c -> {
      List<LedgerRow> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT idx, datasets FROM skein_results WHERE job_id = ? AND idx > ? AND ok = ? AND datasets IS NOT NULL"
              + " ORDER BY job_id, idx LIMIT ?")) {
        ps.setString(1, jobId);
        ps.setLong(2, afterIndex);
        ps.setBoolean(3, true);
        ps.setInt(4, limit);
        ps.setFetchSize(limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            JsonNode row = datasetsOf(rs.getString(2)).get(dataset);
            out.add(new LedgerRow(rs.getLong(1), true, row == null ? null : row.toString(), null));
          }
        }
      }
      return out;
    });
  }

  private static JsonNode datasetsOf(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalStateException("corrupt datasets column: " + e.getMessage(), e);
    }
  }

  private static String toJson(List<String> fields) {
    try {
      return JSON.writeValueAsString(fields);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> fromJson(String json) {
    try {
      return JSON.readValue(json, new TypeReference<List<String>>() {});
    } catch (Exception e) {
      throw new IllegalStateException("corrupt fields column: " + json, e);
    }
  }
}
