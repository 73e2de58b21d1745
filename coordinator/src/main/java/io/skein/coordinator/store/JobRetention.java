package io.skein.coordinator.store;

import io.skein.protocol.JobProtocol.JobState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;

/**
 * Removing what ended jobs keep: a job's journal events and snapshots (its coordinator's and every
 * record's), its inputs, its rows and its job row, in one transaction; ended jobs past an age, on
 * a schedule; and the response cache past an age or a number of entries.
 *
 * <p>The journal is deleted by SQL on Pekko Persistence JDBC's tables because the plugin (1.1) has no
 * cleanup tool, and an entity's own {@code deleteEvents} needs every record's entity started. Each
 * persistence id is named exactly ({@code Job|<id>}, {@code Record|<id>/<index>} for every index
 * below the job's total), so the deletes use the journal's primary key on any collation. The
 * entities must not write again: a job has ended when its row says so, its records have all
 * persisted their last event by then — except records of a job cancelled moments ago, still
 * stopping, which is why a cancelled job can be deleted only after {@code grace}.
 */
public final class JobRetention {

  /** What a delete found. */
  public enum Outcome { DELETED, NOT_FOUND, NOT_ENDED, STOPPING }

  private static final int IN_LIST = 500;

  private final SkeinDb db;
  private final long graceMillis;

  public JobRetention(SkeinDb db, java.time.Duration grace) {
    this.db = db;
    this.graceMillis = grace.toMillis();
  }

  /** Deletes an ended job and all it keeps; says why not when it is unknown, still running or still stopping. */
  public CompletionStage<Outcome> delete(String jobId) {
    return db.asyncTransaction(c -> deleteIn(c, jobId, System.currentTimeMillis()));
  }

  /** Deletes the jobs that ended before {@code cutoff} (epoch millis), at most {@code limit}; answers their ids. */
  public CompletionStage<List<String>> deleteEndedBefore(long cutoff, int limit) {
    return db.async(c -> {
      List<String> ids = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM skein_jobs WHERE state IN (?, ?, ?) AND finished_at < ?"
          + " AND parent_id IS NULL ORDER BY finished_at")) {
        ps.setString(1, JobState.SUCCEEDED.wireName());
        ps.setString(2, JobState.FAILED.wireName());
        ps.setString(3, JobState.CANCELLED.wireName());
        ps.setLong(4, cutoff);
        ps.setMaxRows(limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getString(1));
          }
        }
      }
      List<String> deleted = new ArrayList<>();
      long now = System.currentTimeMillis();
      for (String id : ids) {
        if (db.transaction(t -> deleteIn(t, id, now)) == Outcome.DELETED) {
          deleted.add(id);
        }
      }
      return deleted;
    });
  }

  /**
   * Removes the inputs of submissions (and the lines of file uploads) that began storing them before
   * {@code cutoff} (epoch millis) and never got a job row (or file row: their node died part-way), at
   * most {@code limit}; answers their ids. The rows go a slice at a time, then the submission's mark: a sweep cut short is finished by the next.
   */
  public CompletionStage<List<String>> deleteAbandonedUploads(long cutoff, int limit) {
    return db.async(c -> {
      List<String> ids = InputTable.abandoned(c, cutoff, limit);
      for (String id : ids) {
        boolean isJob;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM skein_jobs WHERE id = ?")) {
          ps.setString(1, id);
          try (ResultSet rs = ps.executeQuery()) {
            isJob = rs.next();
          }
        }
        if (!isJob) {
          InputTable.delete(c, id, InputTable.upto(c, id));
          // A file's upload (POST /v1/files) marks its id the same way: its lines go unless its row is in.
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_file_lines WHERE file_id = ?"
              + " AND NOT EXISTS (SELECT 1 FROM skein_files WHERE id = ?)")) {
            ps.setString(1, id);
            ps.setString(2, id);
            ps.executeUpdate();
          }
        }
        InputTable.finished(c, List.of(id));
      }
      return ids;
    });
  }

  /** Drops cached answers older than {@code cutoff} (epoch millis), then the oldest beyond {@code maxEntries}; answers how many. */
  public CompletionStage<Integer> trimCache(long cutoff, long maxEntries) {
    return db.async(c -> {
      int removed;
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_cache WHERE created_at < ?")) {
        ps.setLong(1, cutoff);
        removed = ps.executeUpdate();
      }
      Long newestDropped = null;
      try (PreparedStatement ps = c.prepareStatement("SELECT created_at FROM skein_cache ORDER BY created_at DESC OFFSET ? ROWS")) {
        ps.setLong(1, maxEntries);
        ps.setMaxRows(1);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            newestDropped = rs.getLong(1);
          }
        }
      }
      if (newestDropped != null) {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_cache WHERE created_at <= ?")) {
          ps.setLong(1, newestDropped);
          removed += ps.executeUpdate();
        }
      }
      return removed;
    });
  }

  private Outcome deleteIn(Connection c, String jobId, long now) throws SQLException {
    Outcome outcome = deleteOne(c, jobId, now);
    if (outcome == Outcome.DELETED) {
      // A staged job's stages are jobs of their own: they go with it (each has ended once it has).
      List<String> stages = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM skein_jobs WHERE parent_id = ?")) {
        ps.setString(1, jobId);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            stages.add(rs.getString(1));
          }
        }
      }
      for (String stage : stages) {
        deleteOne(c, stage, Long.MAX_VALUE);
      }
    }
    return outcome;
  }

  private Outcome deleteOne(Connection c, String jobId, long now) throws SQLException {
    long total;
    try (PreparedStatement ps = c.prepareStatement("SELECT state, total, finished_at FROM skein_jobs WHERE id = ? FOR UPDATE")) {
      ps.setString(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Outcome.NOT_FOUND;
        }
        JobState state = JobState.valueOf(rs.getString(1).toUpperCase(Locale.ROOT));
        total = rs.getLong(2);
        long finished = rs.getLong(3);
        if (!state.isTerminal()) {
          return Outcome.NOT_ENDED;
        }
        if (state == JobState.CANCELLED && now - finished < graceMillis) {
          return Outcome.STOPPING;
        }
      }
    }
    deleteJournal(c, List.of("Job|" + jobId));
    List<String> ids = new ArrayList<>(IN_LIST);
    for (long i = 0; i < total; i++) {
      ids.add("Record|" + jobId + "/" + i);
      if (ids.size() == IN_LIST) {
        deleteJournal(c, ids);
        ids.clear();
      }
    }
    deleteJournal(c, ids);
    for (String table : List.of("skein_results", "skein_inputs", "skein_feeds", "skein_dedupe", "skein_dedupe_bands")) {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE job_id = ?")) {
        ps.setString(1, jobId);
        ps.executeUpdate();
      }
    }
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM skein_jobs WHERE id = ?")) {
      ps.setString(1, jobId);
      ps.executeUpdate();
    }
    return Outcome.DELETED;
  }

  /** Deletes the events (their tags cascade) and snapshots of these persistence ids. */
  private static void deleteJournal(Connection c, List<String> persistenceIds) throws SQLException {
    if (persistenceIds.isEmpty()) {
      return;
    }
    String marks = String.join(", ", Collections.nCopies(persistenceIds.size(), "?"));
    for (String table : List.of("\"event_journal\"", "\"snapshot\"")) {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE \"persistence_id\" IN (" + marks + ")")) {
        for (int i = 0; i < persistenceIds.size(); i++) {
          ps.setString(i + 1, persistenceIds.get(i));
        }
        ps.executeUpdate();
      }
    }
  }
}
