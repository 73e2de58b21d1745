package io.skein.coordinator.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Skein's own tables (jobs, inputs, the results ledger) on the same database as the journal: H2 in
 * a file for a single local node, PostgreSQL for clusters. JDBC blocks, so every call runs on this
 * class's own threads and comes back as a {@link CompletionStage}; actors never wait on it.
 */
public final class SkeinDb implements AutoCloseable {

  public enum Dialect { H2, POSTGRES }

  /** A unit of JDBC work. */
  @FunctionalInterface
  public interface Work<T> {
    T apply(Connection connection) throws SQLException;
  }

  private final HikariDataSource dataSource;
  private final ExecutorService executor;
  private final Dialect dialect;

  private SkeinDb(HikariDataSource dataSource, int threads, Dialect dialect) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    AtomicInteger n = new AtomicInteger();
    this.executor = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "skein-db-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  public static SkeinDb open(String url, String user, String password, int poolSize) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    if (user != null) {
      config.setUsername(user);
    }
    if (password != null) {
      config.setPassword(password);
    }
    config.setMaximumPoolSize(poolSize);
    config.setMinimumIdle(1);
    config.setPoolName("skein-db");
    config.setAutoCommit(true);
    Dialect dialect = url.startsWith("jdbc:postgresql:") ? Dialect.POSTGRES : Dialect.H2;
    if (dialect == Dialect.POSTGRES) {
      config.addDataSourceProperty("reWriteBatchedInserts", "true");
    }
    SkeinDb db = new SkeinDb(new HikariDataSource(config), poolSize, dialect);
    db.sync(db::createSchema);
    return db;
  }

  public Dialect dialect() {
    return dialect;
  }

  /**
   * This database's identity, made at its first use: nodes of one cluster must share it (a node
   * on another database would run records whose journal the others cannot see).
   */
  public String databaseId() {
    return sync(c -> {
      try (Statement s = c.createStatement(); var rs = s.executeQuery("SELECT val FROM skein_meta WHERE name = 'database_id'")) {
        rs.next();
        return rs.getString(1);
      }
    });
  }

  public <T> CompletionStage<T> async(Work<T> work) {
    return submit(() -> sync(work));
  }

  /** Runs on the database threads; once this database is closed, a failed stage saying so (never a throw at the caller). */
  private <T> CompletionStage<T> submit(java.util.function.Supplier<T> work) {
    try {
      return CompletableFuture.supplyAsync(work, executor);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new IllegalStateException("the database connection is closed (the node is stopping)"));
    }
  }

  public <T> T sync(Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      return work.apply(c);
    } catch (SQLException e) {
      throw new StoreException(e);
    }
  }

  public <T> CompletionStage<T> asyncTransaction(Work<T> work) {
    return submit(() -> transaction(work));
  }

  /** Runs {@code work} in one transaction: all of it or none. */
  public <T> T transaction(Work<T> work) {
    return sync(c -> {
      c.setAutoCommit(false);
      try {
        T result = work.apply(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    });
  }

  /**
   * Creates the journal's tables (Pekko Persistence JDBC's own DDL) and Skein's, if absent. The
   * PostgreSQL script names the {@code public} schema; it runs unqualified here, so the tables land
   * in the connection's current schema ({@code ?currentSchema=} in the URL), where the plugin finds them.
   */
  private Void createSchema(Connection c) throws SQLException {
    if (dialect == Dialect.POSTGRES) {
      // Nodes starting together would race on CREATE TABLE IF NOT EXISTS (a duplicate pg_type row):
      // one creates, the others wait and then find everything there.
      try (Statement s = c.createStatement()) {
        s.execute("SELECT pg_advisory_lock(727001)");
      }
      try {
        return createTables(c);
      } finally {
        try (Statement s = c.createStatement()) {
          s.execute("SELECT pg_advisory_unlock(727001)");
        }
      }
    }
    return createTables(c);
  }

  /**
   * The plugin's H2 script, for a journal written once per model call: payloads as VARBINARY, not
   * BLOB (H2 keeps a BLOB past 256 bytes in its LOB store, a second map written per row, and most
   * events are larger), and without the second unique index on {@code ordering} (its UNIQUE
   * constraint has one). Databases made before keep their tables; both read the same.
   */
  static String h2Journal(String ddl) {
    return ddl.replace(" BLOB", " VARBINARY")
        .replaceAll("(?s)CREATE UNIQUE INDEX \"event_journal_ordering_idx\"[^;]*;", "");
  }

  private Void createTables(Connection c) throws SQLException {
    String script = dialect == Dialect.POSTGRES ? "schema/postgres/postgres-create-schema.sql" : "schema/h2/h2-create-schema.sql";
    try (var in = SkeinDb.class.getClassLoader().getResourceAsStream(script); Statement s = c.createStatement()) {
      if (in == null) {
        throw new IllegalStateException("Pekko Persistence JDBC's " + script + " is not on the classpath");
      }
      String ddl = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
          .replace("public.", "").replace("PUBLIC.", "")
          // CONCURRENTLY waits for every open transaction, including nodes waiting for the schema lock.
          .replace(" CONCURRENTLY ", " ");
      if (dialect == Dialect.H2) {
        ddl = h2Journal(ddl);
      }
      for (String statement : ddl.split(";")) {
        if (!statement.isBlank()) {
          try {
            s.execute(statement);
          } catch (SQLException e) {
            if (!alreadyExists(e)) {
              throw e;
            }
          }
        }
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    try (Statement s = c.createStatement()) {
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_jobs (
            id VARCHAR(64) PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            spec TEXT NOT NULL,
            fields TEXT NOT NULL,
            fingerprint VARCHAR(64),
            generated BOOLEAN NOT NULL,
            total BIGINT NOT NULL,
            max_in_flight INT NOT NULL,
            state VARCHAR(16) NOT NULL,
            reason TEXT,
            succeeded BIGINT NOT NULL,
            failed BIGINT NOT NULL,
            in_flight BIGINT NOT NULL,
            calls BIGINT NOT NULL,
            tokens BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            finished_at BIGINT
          )""");
      s.execute("CREATE INDEX IF NOT EXISTS skein_jobs_fingerprint ON skein_jobs (fingerprint)");
      // Added after the first release of the table: the node now running the job's coordinator.
      s.execute("ALTER TABLE skein_jobs ADD COLUMN IF NOT EXISTS coordinator VARCHAR(255)");
      // Added with live progress: what the running records wait for.
      s.execute("ALTER TABLE skein_jobs ADD COLUMN IF NOT EXISTS waiting TEXT");
      // Added with stages: a stage's row names its job, its stage and where its records come from.
      s.execute("ALTER TABLE skein_jobs ADD COLUMN IF NOT EXISTS parent_id VARCHAR(64)");
      s.execute("ALTER TABLE skein_jobs ADD COLUMN IF NOT EXISTS stage VARCHAR(255)");
      s.execute("ALTER TABLE skein_jobs ADD COLUMN IF NOT EXISTS feed TEXT");
      s.execute("CREATE INDEX IF NOT EXISTS skein_jobs_parent ON skein_jobs (parent_id)");
      // Added with staleness: the fingerprints of what the job was made of, part by part.
      s.execute("ALTER TABLE skein_jobs ADD COLUMN IF NOT EXISTS parts TEXT");
      // Added with prices: what the job's calls cost, in billionths of a dollar.
      s.execute("ALTER TABLE skein_jobs ADD COLUMN IF NOT EXISTS cost_nanos BIGINT DEFAULT 0 NOT NULL");
      // Added with tenants: the tenant whose token submitted the job (null: no tenant, seen by admins only
      // once tenants exist), on a job's row and its stages'.
      s.execute("ALTER TABLE skein_jobs ADD COLUMN IF NOT EXISTS tenant VARCHAR(255)");
      s.execute("CREATE INDEX IF NOT EXISTS skein_jobs_tenant ON skein_jobs (tenant, created_at)");
      // API tokens made at run time (POST /tokens by an admin), kept as SHA-256 hashes only.
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_tokens (
            sha256 VARCHAR(64) PRIMARY KEY,
            name VARCHAR(255) NOT NULL UNIQUE,
            tenant VARCHAR(255),
            admin BOOLEAN NOT NULL,
            created_at BIGINT NOT NULL
          )""");
      // How far a stage has read its source stage's rows, and the records it has made of them.
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_feeds (
            job_id VARCHAR(64) PRIMARY KEY,
            read_upto BIGINT NOT NULL,
            made BIGINT NOT NULL,
            filtered BIGINT NOT NULL,
            upstream_failed BIGINT NOT NULL,
            empty BIGINT NOT NULL,
            closed BOOLEAN NOT NULL
          )""");
      s.execute("CREATE TABLE IF NOT EXISTS skein_meta (name VARCHAR(64) PRIMARY KEY, val VARCHAR(255) NOT NULL)");
      try (var rs = s.executeQuery("SELECT COUNT(*) FROM skein_meta WHERE name = 'database_id'")) {
        rs.next();
        if (rs.getLong(1) == 0) {
          s.execute("INSERT INTO skein_meta (name, val) VALUES ('database_id', '" + java.util.UUID.randomUUID() + "')");
        }
      }
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_inputs (
            job_id VARCHAR(64) NOT NULL,
            idx BIGINT NOT NULL,
            record TEXT,
            error TEXT,
            PRIMARY KEY (job_id, idx)
          )""");
      // Added with streamed uploads: a hash of the record's `id`, unique per job, so a repeated id is
      // found by the database however large the upload (NULL, never unique-checked, for records without one).
      s.execute("ALTER TABLE skein_inputs ADD COLUMN IF NOT EXISTS id_hash VARCHAR(32)");
      s.execute("CREATE UNIQUE INDEX IF NOT EXISTS skein_inputs_id_hash ON skein_inputs (job_id, id_hash)");
      // A submission storing its inputs, until its job row is in: what a node killed mid-upload leaves
      // behind is found here and swept (the inputs of a job id that never got its row).
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_uploads (
            job_id VARCHAR(64) PRIMARY KEY,
            started_at BIGINT NOT NULL
          )""");
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_results (
            job_id VARCHAR(64) NOT NULL,
            idx BIGINT NOT NULL,
            ok BOOLEAN NOT NULL,
            row_json TEXT NOT NULL,
            detail TEXT NOT NULL,
            calls INT NOT NULL,
            tokens BIGINT NOT NULL,
            finished_at BIGINT NOT NULL,
            PRIMARY KEY (job_id, idx)
          )""");
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_cache (
            cache_key VARCHAR(64) PRIMARY KEY,
            response TEXT NOT NULL,
            finish_reason VARCHAR(64),
            prompt_tokens BIGINT NOT NULL,
            completion_tokens BIGINT NOT NULL,
            created_at BIGINT NOT NULL
          )""");
      // Added with retention: the cache is trimmed oldest first.
      s.execute("CREATE INDEX IF NOT EXISTS skein_cache_created ON skein_cache (created_at)");
      // Added with processors: a record's rows of the spec's extra datasets, {name: row}.
      s.execute("ALTER TABLE skein_results ADD COLUMN IF NOT EXISTS datasets TEXT");
      // Added with prices: what the record's calls cost, in billionths of a dollar.
      s.execute("ALTER TABLE skein_results ADD COLUMN IF NOT EXISTS cost_nanos BIGINT DEFAULT 0 NOT NULL");
      // Added with the OpenAI Batch API: uploaded files (their lines apart, each with its line number),
      // the output and error files of batches (their content is the batch job's ledger rows), and batches.
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_files (
            id VARCHAR(64) PRIMARY KEY,
            purpose VARCHAR(32) NOT NULL,
            filename VARCHAR(255) NOT NULL,
            bytes BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            batch_id VARCHAR(64),
            tenant VARCHAR(255)
          )""");
      s.execute("CREATE INDEX IF NOT EXISTS skein_files_created ON skein_files (created_at)");
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_file_lines (
            file_id VARCHAR(64) NOT NULL,
            line BIGINT NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (file_id, line)
          )""");
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_batches (
            id VARCHAR(64) PRIMARY KEY,
            job_id VARCHAR(64),
            input_file_id VARCHAR(64) NOT NULL,
            endpoint VARCHAR(64) NOT NULL,
            completion_window VARCHAR(16) NOT NULL,
            metadata TEXT,
            errors TEXT,
            created_at BIGINT NOT NULL,
            cancelled_at BIGINT,
            files_made BOOLEAN DEFAULT FALSE NOT NULL,
            tenant VARCHAR(255)
          )""");
      s.execute("CREATE INDEX IF NOT EXISTS skein_batches_created ON skein_batches (created_at)");
      // Added with dedupe: each checked record's signature and verdict, and the band hashes of those accepted.
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_dedupe (
            job_id VARCHAR(64) NOT NULL,
            idx BIGINT NOT NULL,
            signature TEXT NOT NULL,
            duplicate_of BIGINT,
            similarity DOUBLE PRECISION,
            PRIMARY KEY (job_id, idx)
          )""");
      s.execute("""
          CREATE TABLE IF NOT EXISTS skein_dedupe_bands (
            job_id VARCHAR(64) NOT NULL,
            band_hash BIGINT NOT NULL,
            idx BIGINT NOT NULL,
            PRIMARY KEY (job_id, band_hash, idx)
          )""");
    }
    return null;
  }

  private static boolean alreadyExists(SQLException e) {
    String state = e.getSQLState();
    return "42P07".equals(state) || "42710".equals(state) || "42S11".equals(state) || "42S01".equals(state)
        || String.valueOf(e.getMessage()).contains("already exists");
  }

  @Override
  public void close() {
    executor.shutdown();
    dataSource.close();
  }

  /** A database error, unchecked so it can travel through CompletionStages. */
  public static final class StoreException extends RuntimeException {
    public StoreException(SQLException cause) {
      super(cause.getMessage(), cause);
    }
  }
}
