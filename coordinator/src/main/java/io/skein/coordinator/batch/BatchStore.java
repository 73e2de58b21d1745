package io.skein.coordinator.batch;

import io.skein.coordinator.store.SkeinDb;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The OpenAI Batch API's files and batches in Skein's database: {@code skein_files} (uploaded files,
 * and the output and error files of batches, whose content is their job's ledger),
 * {@code skein_file_lines} (an uploaded file's lines, by line number) and {@code skein_batches}. A
 * batch's state and counts are its job's; this table keeps what the job does not know.
 */
public final class BatchStore {

  /**
   * A file as OpenAI describes it; {@code batchId}: the batch whose output or error rows it holds
   * (null for an upload); {@code tenant}: whose it is (null: no tenant's).
   */
  public record FileInfo(String id, String purpose, String filename, long bytes, long createdAt, String batchId, String tenant) {}

  /** A line of an uploaded file, numbered from 1 as editors count (blank lines are not kept but counted). */
  public record Line(long line, String text) {}

  /**
   * A batch: its job (null when its file failed validation: {@code errors} says why), its request's
   * fields, and when it was asked to cancel; {@code filesMade}: its output and error files are in
   * {@code skein_files}; {@code tenant}: whose it is (null: no tenant's).
   */
  public record BatchRow(String id, String jobId, String inputFileId, String endpoint, String completionWindow, String metadata,
      String errors, long createdAt, Long cancelledAt, boolean filesMade, String tenant) {}

  private final SkeinDb db;

  public BatchStore(SkeinDb db) {
    this.db = db;
  }

  public SkeinDb db() {
    return db;
  }

  /**
   * An upload of file {@code fileId} begins: marked as a submission's inputs are, so the retention
   * sweep removes its lines if its node dies before the file's row is in.
   */
  public void beginUpload(String fileId) {
    db.sync(c -> {
      io.skein.coordinator.store.InputTable.begin(c, fileId, System.currentTimeMillis());
      return null;
    });
  }

  /** The upload of {@code fileId} is over: its row is in, or its lines are gone. */
  public void endUpload(String fileId) {
    db.sync(c -> {
      io.skein.coordinator.store.InputTable.finished(c, List.of(fileId));
      return null;
    });
  }

  /** Stores some of an upload's lines, in one transaction. */
  public void insertLines(String fileId, List<Line> lines) {
    db.transaction(c -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO skein_file_lines (file_id, line, text) VALUES (?, ?, ?)")) {
        for (Line l : lines) {
          ps.setString(1, fileId);
          ps.setLong(2, l.line());
          ps.setString(3, l.text());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  /** Up to {@code limit} lines of a file after line {@code after}, in order. */
  public List<Line> lines(String fileId, long after, int limit) {
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT line, text FROM skein_file_lines WHERE file_id = ? AND line > ? ORDER BY file_id, line LIMIT ?")) {
        ps.setString(1, fileId);
        ps.setLong(2, after);
        ps.setInt(3, limit);
        List<Line> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Line(rs.getLong(1), rs.getString(2)));
          }
        }
        return out;
      }
    });
  }

  public void insertFile(FileInfo f) {
    db.sync(c -> insertFile(c, f));
  }

  private static Void insertFile(Connection c, FileInfo f) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO skein_files (id, purpose, filename, bytes, created_at, batch_id, tenant) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, f.id());
      ps.setString(2, f.purpose());
      ps.setString(3, f.filename());
      ps.setLong(4, f.bytes());
      ps.setLong(5, f.createdAt());
      ps.setString(6, f.batchId());
      ps.setString(7, f.tenant());
      ps.executeUpdate();
    }
    return null;
  }

  public Optional<FileInfo> file(String id) {
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT id, purpose, filename, bytes, created_at, batch_id, tenant FROM skein_files WHERE id = ?")) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(file(rs)) : Optional.<FileInfo>empty();
        }
      }
    });
  }

  /**
   * Files newest first (oldest first with {@code ascending}), after the file {@code after} in that
   * order; {@code purpose} null: all; {@code tenant} null: every tenant's.
   */
  public List<FileInfo> files(String purpose, String after, int limit, boolean ascending, String tenant) {
    java.util.Map<String, String> equal = new java.util.LinkedHashMap<>();
    equal.put("purpose", purpose);
    equal.put("tenant", tenant);
    return page("skein_files", "id, purpose, filename, bytes, created_at, batch_id, tenant", equal, after, limit, ascending,
        BatchStore::file);
  }

  private interface RowReader<T> {
    T read(ResultSet rs) throws SQLException;
  }

  /**
   * Rows of {@code table} newest first (oldest first with {@code ascending}; ties by id), after the
   * row {@code after} in that order, where each column of {@code equal} holds its value (a null value
   * filters nothing): OpenAI's cursor paging.
   */
  private <T> List<T> page(String table, String columns, java.util.Map<String, String> equal, String after, int limit,
      boolean ascending, RowReader<T> reader) {
    String cmp = ascending ? ">" : "<";
    String order = ascending ? "ASC" : "DESC";
    List<String> values = new ArrayList<>();
    StringBuilder sql = new StringBuilder("SELECT " + columns + " FROM " + table + " WHERE 1 = 1");
    equal.forEach((column, value) -> {
      if (value != null) {
        sql.append(" AND ").append(column).append(" = ?");
        values.add(value);
      }
    });
    if (after != null) {
      String at = "(SELECT created_at FROM " + table + " WHERE id = ?)";
      sql.append(" AND (created_at ").append(cmp).append(' ').append(at).append(" OR (created_at = ").append(at)
          .append(" AND id ").append(cmp).append(" ?))");
      values.addAll(List.of(after, after, after));
    }
    sql.append(" ORDER BY created_at ").append(order).append(", id ").append(order).append(" LIMIT ?");
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        for (int i = 0; i < values.size(); i++) {
          ps.setString(i + 1, values.get(i));
        }
        ps.setInt(values.size() + 1, limit);
        List<T> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(reader.read(rs));
          }
        }
        return out;
      }
    });
  }

  /** Deletes a file and its lines; false if there was none. */
  public boolean deleteFile(String id) {
    return db.transaction(c -> {
      deleteLines(c, id);
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_files WHERE id = ?")) {
        ps.setString(1, id);
        return ps.executeUpdate() > 0;
      }
    });
  }

  /** Removes the lines of an upload that did not complete. */
  public void deleteLines(String fileId) {
    db.sync(c -> deleteLines(c, fileId));
  }

  private static Void deleteLines(Connection c, String fileId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_file_lines WHERE file_id = ?")) {
      ps.setString(1, fileId);
      ps.executeUpdate();
    }
    return null;
  }

  private static FileInfo file(ResultSet rs) throws SQLException {
    return new FileInfo(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5), rs.getString(6), rs.getString(7));
  }

  public void insertBatch(BatchRow b) {
    db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO skein_batches (id, job_id, input_file_id, endpoint, completion_window,"
          + " metadata, errors, created_at, tenant) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, b.id());
        ps.setString(2, b.jobId());
        ps.setString(3, b.inputFileId());
        ps.setString(4, b.endpoint());
        ps.setString(5, b.completionWindow());
        ps.setString(6, b.metadata());
        ps.setString(7, b.errors());
        ps.setLong(8, b.createdAt());
        ps.setString(9, b.tenant());
        ps.executeUpdate();
      }
      return null;
    });
  }

  private static final String BATCH_COLUMNS =
      "id, job_id, input_file_id, endpoint, completion_window, metadata, errors, created_at, cancelled_at, files_made, tenant";

  public Optional<BatchRow> batch(String id) {
    return db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + BATCH_COLUMNS + " FROM skein_batches WHERE id = ?")) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(batch(rs)) : Optional.<BatchRow>empty();
        }
      }
    });
  }

  /** Batches newest first, after the batch {@code after} (null: from the newest); {@code tenant} null: every tenant's. */
  public List<BatchRow> batches(String after, int limit, String tenant) {
    java.util.Map<String, String> equal = new java.util.LinkedHashMap<>();
    equal.put("tenant", tenant);
    return page("skein_batches", BATCH_COLUMNS, equal, after, limit, false, BatchStore::batch);
  }

  /** Links a validated batch to the job that runs it. */
  public void linkJob(String id, String jobId) {
    update("UPDATE skein_batches SET job_id = ? WHERE id = ? AND job_id IS NULL", jobId, id);
  }

  /** A batch whose job could not be made: it has failed with {@code errors} (OpenAI's {@code errors.data}). */
  public void fail(String id, String errors) {
    update("UPDATE skein_batches SET errors = ? WHERE id = ? AND job_id IS NULL", errors, id);
  }

  /** A batch whose job runs again: its output and error files go, to be made anew when it ends. */
  public void unmakeFiles(String id) {
    db.transaction(c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_files WHERE batch_id = ?")) {
        ps.setString(1, id);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_batches SET files_made = FALSE WHERE id = ?")) {
        ps.setString(1, id);
        ps.executeUpdate();
      }
      return null;
    });
  }

  private void update(String sql, String first, String second) {
    db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, first);
        ps.setString(2, second);
        ps.executeUpdate();
      }
      return null;
    });
  }

  /** Notes when a batch was asked to cancel (the first time only). */
  public void cancelled(String id, long at) {
    db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_batches SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL")) {
        ps.setLong(1, at);
        ps.setString(2, id);
        ps.executeUpdate();
      }
      return null;
    });
  }

  /** Stores an ended batch's output and error files (either may be absent) and marks them made, at most once. */
  public void filesMade(String batchId, List<FileInfo> files) {
    db.transaction(c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE skein_batches SET files_made = TRUE WHERE id = ? AND files_made = FALSE")) {
        ps.setString(1, batchId);
        if (ps.executeUpdate() == 0) {
          return null;
        }
      }
      for (FileInfo f : files) {
        insertFile(c, f);
      }
      return null;
    });
  }

  private static BatchRow batch(ResultSet rs) throws SQLException {
    long cancelled = rs.getLong(9);
    Long cancelledAt = rs.wasNull() ? null : cancelled;
    return new BatchRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
        rs.getString(7), rs.getLong(8), cancelledAt, rs.getBoolean(10), rs.getString(11));
  }
}
