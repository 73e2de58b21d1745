package io.skein.deploy;

import io.skein.coordinator.store.SkeinDb;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * How fast the journal's database takes the very events a bench job persisted when nothing but
 * plain JDBC writes them: the job's rows of {@code event_journal} are read back and inserted into
 * a copy of the table (same columns, same primary key) in batches of {@link #BATCH} on {@link
 * #CONNECTIONS} connections at once, as the journal plugin is configured to write. What Skein
 * reaches against this ceiling says how much of a call's cost is the journal's.
 */
final class JournalCeiling {

  static final int BATCH = 400;
  static final int CONNECTIONS = 2;
  private static final String COPY = "\"event_journal_ceiling\"";
  /** Quoted: H2 keeps the plugin's lowercase names as they were created. */
  private static final String JOURNAL = "\"event_journal\"";

  /** Events inserted, and in how many seconds. */
  record Measured(long events, double seconds) {
    double perSecond() {
      return events / seconds;
    }
  }

  private JournalCeiling() {}

  /** The events of job {@code jobId} (persistence ids {@code RecordWorker|<jobId>/<index>}), inserted again into a copy of the table. */
  static Measured measure(SkeinDb db, String jobId) throws Exception {
    List<Object[]> rows = new ArrayList<>();
    String[] columns = db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + JOURNAL + " WHERE \"persistence_id\" LIKE ?")) {
        ps.setString(1, "%|" + jobId + "/%");
        try (ResultSet rs = ps.executeQuery()) {
          ResultSetMetaData meta = rs.getMetaData();
          String[] names = new String[meta.getColumnCount()];
          for (int i = 0; i < names.length; i++) {
            names[i] = "\"" + meta.getColumnName(i + 1) + "\"";
          }
          while (rs.next()) {
            Object[] row = new Object[names.length];
            for (int i = 0; i < row.length; i++) {
              row[i] = rs.getObject(i + 1);
            }
            rows.add(row);
          }
          return names;
        }
      }
    });
    db.sync(c -> {
      try (Statement s = c.createStatement()) {
        s.execute("DROP TABLE IF EXISTS " + COPY);
        if (db.dialect() == SkeinDb.Dialect.POSTGRES) {
          s.execute("CREATE TABLE " + COPY + " (LIKE " + JOURNAL + " INCLUDING DEFAULTS INCLUDING INDEXES)");
        } else {
          s.execute("CREATE TABLE " + COPY + " AS SELECT * FROM " + JOURNAL + " WITH NO DATA");
          s.execute("ALTER TABLE " + COPY + " ALTER COLUMN \"persistence_id\" SET NOT NULL");
          s.execute("ALTER TABLE " + COPY + " ALTER COLUMN \"sequence_number\" SET NOT NULL");
          s.execute("ALTER TABLE " + COPY + " ADD PRIMARY KEY (\"persistence_id\", \"sequence_number\")");
        }
      }
      return null;
    });
    String insert = "INSERT INTO " + COPY + " (" + String.join(", ", columns) + ") VALUES (" + "?, ".repeat(columns.length - 1) + "?)";
    ExecutorService writers = Executors.newFixedThreadPool(CONNECTIONS);
    try {
      long start = System.nanoTime();
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < CONNECTIONS; w++) {
        int writer = w;
        done.add(writers.submit(() -> db.sync(c -> write(c, insert, rows, writer))));
      }
      for (Future<?> f : done) {
        f.get();
      }
      return new Measured(rows.size(), (System.nanoTime() - start) / 1e9);
    } finally {
      writers.shutdown();
      db.sync(c -> {
        try (Statement s = c.createStatement()) {
          s.execute("DROP TABLE " + COPY);
        }
        return null;
      });
    }
  }

  /** Writer {@code writer}'s share of the rows (every CONNECTIONS-th batch), each batch committed as the plugin commits its own. */
  private static Void write(Connection c, String insert, List<Object[]> rows, int writer) throws java.sql.SQLException {
    try (PreparedStatement ps = c.prepareStatement(insert)) {
      for (int from = writer * BATCH; from < rows.size(); from += BATCH * CONNECTIONS) {
        for (Object[] row : rows.subList(from, Math.min(rows.size(), from + BATCH))) {
          for (int i = 0; i < row.length; i++) {
            ps.setObject(i + 1, row[i]);
          }
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
    return null;
  }
}
