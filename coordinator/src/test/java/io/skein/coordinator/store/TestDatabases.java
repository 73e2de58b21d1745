package io.skein.coordinator.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Optional;
import java.util.UUID;

/**
 * Databases for tests: H2 always; PostgreSQL when {@code SKEIN_TEST_PG_URL} names one (`.ci/run`
 * sets it). Each PostgreSQL test gets a schema of its own, so tests never see each other's rows.
 */
public final class TestDatabases {

  public static final String PG_SKIP_MESSAGE =
      "PostgreSQL tests skipped: set SKEIN_TEST_PG_URL (e.g. jdbc:postgresql://127.0.0.1:5432/test?user=postgres) to run them";

  private static final java.util.List<String[]> CREATED = new java.util.concurrent.CopyOnWriteArrayList<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(TestDatabases::dropCreatedSchemas));
  }

  private TestDatabases() {}

  private static void dropCreatedSchemas() {
    for (String[] created : CREATED) {
      try (Connection c = DriverManager.getConnection(created[0]); Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA IF EXISTS " + created[1] + " CASCADE");
      } catch (Exception e) {
        System.err.println("could not drop test schema " + created[1] + ": " + e.getMessage());
      }
    }
  }

  private static final java.util.concurrent.atomic.AtomicBoolean TOLD = new java.util.concurrent.atomic.AtomicBoolean();

  /** The PostgreSQL to test against, if any; says once on the console when there is none. */
  public static Optional<String> postgresUrl() {
    String url = System.getenv("SKEIN_TEST_PG_URL");
    if (url == null || url.isBlank()) {
      if (TOLD.compareAndSet(false, true)) {
        System.err.println("[skein] " + PG_SKIP_MESSAGE);
      }
      return Optional.empty();
    }
    return Optional.of(url);
  }

  /** The databases a store test runs on, for {@code @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")}. */
  public static java.util.stream.Stream<String> kinds() {
    return java.util.stream.Stream.of("h2", "postgres");
  }

  /** A fresh database of that kind; a PostgreSQL test is skipped, with a message, when there is none. */
  public static SkeinDb open(String kind) throws Exception {
    if (kind.equals("postgres")) {
      org.junit.jupiter.api.Assumptions.assumeTrue(postgresUrl().isPresent(), PG_SKIP_MESSAGE);
      return SkeinDb.open(freshPostgresSchema(postgresUrl().get()), null, null, 2);
    }
    return SkeinDb.open(freshH2(), null, null, 2);
  }

  /** Creates a fresh schema and returns a URL whose connections use it. */
  public static String freshPostgresSchema(String baseUrl) throws Exception {
    String schema = "skein_t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(baseUrl); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    }
    CREATED.add(new String[] {baseUrl, schema});
    return baseUrl + (baseUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  public static String freshH2() {
    return "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
  }
}
