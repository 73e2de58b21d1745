package io.skein.coordinator.store;

import io.skein.coordinator.store.JobStore.LedgerRow;
import io.skein.protocol.JobProtocol.JobState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The tables of staged jobs: how far each stage has read its source stage's rows ({@code skein_feeds}),
 * the records made of them (stored as the stage's inputs, in the same transaction that moves the
 * mark, so a crash neither loses nor repeats one), and the staged job's row, which sums its stages'.
 */
public final class StageStore {

  /**
   * Where a stage's feed stands: records made so far, whether no more will come ({@code closed}),
   * source rows that made none (filtered out, error rows, an explode field empty or not a list), and
   * {@code failed}: why the stage can have no records at all (its setup failed), else null.
   */
  public record FeedState(long made, boolean closed, long filtered, long upstreamFailed, long empty, String failed) {
    public static final FeedState NONE = new FeedState(0, false, 0, 0, 0, null);
  }

  /**
   * The records a run of consecutive source rows makes, and the rows that made none, by why. A
   * record with an {@code error} (a filter that could not be evaluated for its row) ends as that
   * error row without running.
   */
  public record Made(List<JobStore.InputRow> records, long filtered, long upstreamFailed, long empty) {}

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private final SkeinDb db;
  private final JobStore jobs;

  public StageStore(JobStore jobs) {
    this.db = jobs.db();
    this.jobs = jobs;
  }

  /** The feed mark of a new stage: nothing read; a stage of stored inputs without setup has them all. */
  public void insertFeed(Connection c, String stageId, long made, boolean closed) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO skein_feeds (job_id, read_upto, made, filtered, upstream_failed, empty, closed) VALUES (?, 0, ?, 0, 0, 0, ?)")) {
      ps.setString(1, stageId);
      ps.setLong(2, made);
      ps.setBoolean(3, closed);
      ps.executeUpdate();
    }
  }

  /**
   * Reads up to {@code maxRows} more of the source stage's rows (the consecutive ones from the mark:
   * rows land out of order, and records are numbered in the order of their parents), stores the
   * records {@code make} makes of them as the stage's inputs, and moves the mark, in one transaction.
   * The feed closes once the source has ended and every one of its rows is read.
   */
  public CompletionStage<FeedState> feed(String stageId, String sourceId, int maxRows, Function<List<LedgerRow>, Made> make) {
    return db.asyncTransaction(c -> {
      Mark mark = lock(c, stageId);
      FeedState at = mark.at();
      if (at.closed()) {
        return at;
      }
      long readUpto = mark.readUpto();
      List<LedgerRow> rows = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT idx, ok, row_json FROM skein_results WHERE job_id = ? AND idx >= ? ORDER BY job_id, idx LIMIT ?")) {
        ps.setString(1, sourceId);
        ps.setLong(2, readUpto);
        ps.setInt(3, maxRows);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next() && rs.getLong(1) == readUpto + rows.size()) {
            rows.add(new LedgerRow(rs.getLong(1), rs.getBoolean(2), rs.getString(3), null));
          }
        }
      }
      Made made = make.apply(rows);
      List<JobStore.InputRow> inputs = new ArrayList<>(made.records().size());
      for (JobStore.InputRow record : made.records()) {
        inputs.add(new JobStore.InputRow(at.made() + inputs.size(), record.record(), record.error()));
      }
      jobs.insertInputs(c, stageId, inputs);
      long read = readUpto + rows.size();
      Optional<JobInfo> source = jobById(c, sourceId);
      boolean closed = source.isEmpty() || (source.get().state().isTerminal()
          && (read >= source.get().total() || source.get().state() == JobState.CANCELLED));
      FeedState next = new FeedState(at.made() + inputs.size(), closed, at.filtered() + made.filtered(),
          at.upstreamFailed() + made.upstreamFailed(), at.empty() + made.empty(), null);
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_feeds SET read_upto = ?, made = ?, filtered = ?, upstream_failed = ?,"
          + " empty = ?, closed = ? WHERE job_id = ?")) {
        ps.setLong(1, read);
        ps.setLong(2, next.made());
        ps.setLong(3, next.filtered());
        ps.setLong(4, next.upstreamFailed());
        ps.setLong(5, next.empty());
        ps.setBoolean(6, closed);
        ps.setString(7, stageId);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_jobs SET total = ? WHERE id = ?")) {
        ps.setLong(1, next.made());
        ps.setString(2, stageId);
        ps.executeUpdate();
      }
      return next;
    });
  }

  /**
   * For a stage of stored inputs that needs the setup row: nothing until the setup stage has ended;
   * then all its records if the setup row is an output row, or {@code failed} saying why not.
   */
  public CompletionStage<FeedState> gate(String stageId, String setupId) {
    return db.asyncTransaction(c -> {
      FeedState at = lock(c, stageId).at();
      Optional<JobInfo> setup = jobById(c, setupId);
      if (setup.isPresent() && !setup.get().state().isTerminal()) {
        return at;
      }
      Optional<LedgerRow> row = setupRow(c, setupId);
      long total = jobById(c, stageId).map(JobInfo::total).orElse(0L);
      boolean ok = row.isPresent() && row.get().ok();
      if (!at.closed()) {
        try (PreparedStatement ps = c.prepareStatement("UPDATE skein_feeds SET made = ?, closed = ? WHERE job_id = ?")) {
          ps.setLong(1, ok ? total : 0);
          ps.setBoolean(2, true);
          ps.setString(3, stageId);
          ps.executeUpdate();
        }
      }
      String why = ok ? null : "its setup failed" + row.map(r -> ": " + r.row()).orElse(" (it has no setup row)");
      return new FeedState(ok ? total : 0, true, 0, 0, 0, why);
    });
  }

  /** The setup stage's row (one record, index 0), once it has one. */
  public CompletionStage<Optional<LedgerRow>> setupRow(String setupId) {
    return db.async(c -> setupRow(c, setupId));
  }

  /**
   * The setup row's values as templates and filters read them ({@code setup.<field>}): empty while
   * there is no row yet or when it is an error row (no record after a failed setup runs).
   */
  public CompletionStage<Optional<Map<String, Object>>> setupValues(String setupId) {
    return setupRow(setupId).thenApply(row -> row.filter(LedgerRow::ok).map(r -> {
      try {
        return io.skein.worker.step.Json.plainObject(JSON.readTree(r.row()));
      } catch (java.io.IOException e) {
        throw new IllegalStateException("corrupt setup row of " + setupId + ": " + e.getMessage(), e);
      }
    }));
  }

  private static Optional<LedgerRow> setupRow(Connection c, String setupId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT ok, row_json FROM skein_results WHERE job_id = ? AND idx = 0")) {
      ps.setString(1, setupId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new LedgerRow(0, rs.getBoolean(1), rs.getString(2), null)) : Optional.empty();
      }
    }
  }

  /** The feed marks of a staged job's stages, by stage job id. */
  public CompletionStage<Map<String, FeedState>> feeds(String parentId) {
    return db.async(c -> {
      Map<String, FeedState> out = new LinkedHashMap<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT f.job_id, f.made, f.closed, f.filtered, f.upstream_failed, f.empty"
          + " FROM skein_feeds f JOIN skein_jobs j ON j.id = f.job_id WHERE j.parent_id = ?")) {
        ps.setString(1, parentId);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), new FeedState(rs.getLong(2), rs.getBoolean(3), rs.getLong(4), rs.getLong(5), rs.getLong(6), null));
          }
        }
      }
      return out;
    });
  }

  /** What the stages of staged job {@code parentId} other than {@code stageId} have spent, as their rows say (billionths of a dollar). */
  public CompletionStage<Long> costOfOthers(String parentId, String stageId) {
    return db.async(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(SUM(cost_nanos), 0) FROM skein_jobs WHERE parent_id = ? AND id <> ?")) {
        ps.setString(1, parentId);
        ps.setString(2, stageId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? rs.getLong(1) : 0L;
        }
      }
    });
  }

  /** A staged job's stages, in spec order. */
  public CompletionStage<List<JobInfo>> stages(String parentId) {
    return db.async(c -> stagesOf(c, parentId));
  }

  private List<JobInfo> stagesOf(Connection c, String parentId) throws SQLException {
    List<JobInfo> out = jobs.findJobs(c, "WHERE parent_id = ?", parentId);
    out.sort(java.util.Comparator.comparingInt(StagesRollup::position));
    return out;
  }

  /**
   * Brings the row of the staged job {@code stageId} belongs to (if any) in line with its stages:
   * under a lock on that row, so two stages settling at once cannot write an older view last.
   */
  public CompletionStage<Void> settleParentOf(String stageId) {
    return db.async(c -> parentOf(c, stageId)).thenCompose(parent -> parent == null
        ? java.util.concurrent.CompletableFuture.completedFuture(null)
        : db.asyncTransaction(c -> {
          settle(c, parent);
          return null;
        }));
  }

  private static String parentOf(Connection c, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT parent_id FROM skein_jobs WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private void settle(Connection c, String parentId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT state FROM skein_jobs WHERE id = ? FOR UPDATE")) {
      ps.setString(1, parentId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || JobState.valueOf(rs.getString(1).toUpperCase(Locale.ROOT)).isTerminal()) {
          return;
        }
      }
    }
    StagesRollup r = StagesRollup.of(stagesOf(c, parentId));
    try (PreparedStatement ps = c.prepareStatement("UPDATE skein_jobs SET state = ?, reason = ?, total = ?, succeeded = ?, failed = ?,"
        + " calls = ?, tokens = ?, in_flight = ?, waiting = ?, updated_at = ?, finished_at = ?, cost_nanos = ? WHERE id = ?")) {
      ps.setString(1, r.state().wireName());
      ps.setString(2, r.reason());
      ps.setLong(3, r.total());
      ps.setLong(4, r.counts().succeeded());
      ps.setLong(5, r.counts().failed());
      ps.setLong(6, r.counts().calls());
      ps.setLong(7, r.counts().tokens());
      ps.setLong(8, r.inFlight());
      ps.setString(9, r.waiting());
      ps.setLong(10, System.currentTimeMillis());
      ps.setObject(11, r.finishedAt());
      ps.setLong(12, r.counts().costNanos());
      ps.setString(13, parentId);
      ps.executeUpdate();
    }
  }

  /** A feed's mark, locked for the transaction: where it stands, and how many source rows it has read. */
  private record Mark(FeedState at, long readUpto) {}

  private Mark lock(Connection c, String stageId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT made, closed, filtered, upstream_failed, empty, read_upto FROM skein_feeds WHERE job_id = ? FOR UPDATE")) {
      ps.setString(1, stageId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("stage " + stageId + " has no feed");
        }
        return new Mark(new FeedState(rs.getLong(1), rs.getBoolean(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), null), rs.getLong(6));
      }
    }
  }

  private Optional<JobInfo> jobById(Connection c, String id) throws SQLException {
    List<JobInfo> found = jobs.findJobs(c, "WHERE id = ?", id);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }
}
