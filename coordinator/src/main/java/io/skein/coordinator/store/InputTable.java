package io.skein.coordinator.store;

import io.skein.coordinator.store.JobStore.InputRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The statements a submission runs on {@code skein_inputs}: rows inserted with a hash of their
 * record's id (a unique index per job makes the database, not the node's memory, find a repeated
 * id), the rows holding given hashes (to name the records that share one), and a job's rows
 * deleted again in slices (an upload that failed part-way leaves nothing behind, without one huge
 * transaction). While a submission stores its rows, its job id is in {@code skein_uploads}: from its
 * first batch (in that batch's transaction) until its job row is inserted (in that transaction), so
 * the rows of a submission whose node died part-way are found and swept ({@link #abandoned}).
 */
public final class InputTable {

  /** Rows per DELETE when a failed upload is removed: each slice commits on its own. */
  private static final int DELETE_SLICE = 10_000;
  /** Hashes per look-up when a repeated id is named. */
  private static final int LOOKUP_SLICE = 500;

  private InputTable() {}

  /** Inserts rows with their id hashes ({@code idHashes.get(i)} is row i's, null for a record without an id). */
  public static void insert(Connection c, String jobId, List<InputRow> rows, List<String> idHashes) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO skein_inputs (job_id, idx, record, error, id_hash) VALUES (?, ?, ?, ?, ?)")) {
      for (int i = 0; i < rows.size(); i++) {
        InputRow row = rows.get(i);
        ps.setString(1, jobId);
        ps.setLong(2, row.index());
        ps.setString(3, row.record());
        ps.setString(4, row.error());
        ps.setString(5, idHashes.get(i));
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** Job {@code jobId}'s inputs are being stored, since {@code now}. */
  public static void begin(Connection c, String jobId, long now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO skein_uploads (job_id, started_at) VALUES (?, ?)")) {
      ps.setString(1, jobId);
      ps.setLong(2, now);
      ps.executeUpdate();
    }
  }

  /** These jobs' inputs are stored for good (their job rows go in with this) or removed. */
  public static void finished(Connection c, java.util.Collection<String> jobIds) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_uploads WHERE job_id = ?")) {
      for (String jobId : jobIds) {
        ps.setString(1, jobId);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** Job ids whose inputs began to be stored before {@code before} and never got a job row nor were removed, oldest first. */
  public static List<String> abandoned(Connection c, long before, int limit) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT job_id FROM skein_uploads WHERE started_at < ? ORDER BY started_at")) {
      ps.setLong(1, before);
      ps.setMaxRows(limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
    }
    return ids;
  }

  /** One past the highest index job {@code jobId} has stored (0 for none). */
  public static long upto(Connection c, String jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT MAX(idx) FROM skein_inputs WHERE job_id = ?")) {
      ps.setString(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        long max = rs.getLong(1);
        return rs.wasNull() ? 0 : max + 1;
      }
    }
  }

  /** The index of the stored row holding each of these id hashes, for those some row holds. */
  public static Map<String, Long> indexesOf(Connection c, String jobId, List<String> idHashes) throws SQLException {
    Map<String, Long> found = new HashMap<>();
    for (int from = 0; from < idHashes.size(); from += LOOKUP_SLICE) {
      List<String> slice = idHashes.subList(from, Math.min(idHashes.size(), from + LOOKUP_SLICE));
      String marks = String.join(", ", java.util.Collections.nCopies(slice.size(), "?"));
      try (PreparedStatement ps = c.prepareStatement("SELECT id_hash, idx FROM skein_inputs WHERE job_id = ? AND id_hash IN (" + marks + ")")) {
        ps.setString(1, jobId);
        for (int i = 0; i < slice.size(); i++) {
          ps.setString(i + 2, slice.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            found.put(rs.getString(1), rs.getLong(2));
          }
        }
      }
    }
    return found;
  }

  /** Deletes job {@code jobId}'s rows below index {@code upto}, a slice per statement (autocommit). */
  public static void delete(SkeinDb db, String jobId, long upto) {
    db.sync(c -> {
      delete(c, jobId, upto);
      return null;
    });
  }

  /** The same, on a connection in autocommit. */
  static void delete(Connection c, String jobId, long upto) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_inputs WHERE job_id = ? AND idx >= ? AND idx < ?")) {
      for (long from = 0; from < upto; from += DELETE_SLICE) {
        ps.setString(1, jobId);
        ps.setLong(2, from);
        ps.setLong(3, Math.min(upto, from + DELETE_SLICE));
        ps.executeUpdate();
      }
    }
  }

  /** How many input rows job {@code jobId} has stored. */
  public static long count(SkeinDb db, String jobId) {
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM skein_inputs WHERE job_id = ?")) {
        ps.setString(1, jobId);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

  /** Whether the exception (or one chained to it) is a unique-key violation (SQLSTATE 23505, H2 and PostgreSQL alike). */
  public static boolean isUniqueViolation(Throwable error) {
    List<Throwable> seen = new ArrayList<>();
    for (Throwable e = error; e != null && !seen.contains(e); e = e.getCause()) {
      seen.add(e);
      for (SQLException s = e instanceof SQLException q ? q : null; s != null; s = s.getNextException()) {
        if ("23505".equals(s.getSQLState())) {
          return true;
        }
      }
    }
    return false;
  }
}
