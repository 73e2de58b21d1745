package io.skein.deploy;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a node keeps its data and finds its config: the options {@code run} and {@code node} share. */
final class StoreOptions {

  @Option(names = "--config", description = "A HOCON file overriding the defaults (model providers, limits).")
  Path config;

  @Option(names = "--data-dir", defaultValue = "skein-data", description = "Where the embedded H2 database lives (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--db-url", description = "A PostgreSQL JDBC URL (or SKEIN_DB_URL); default: H2 under --data-dir.")
  String dbUrl;

  @Option(names = "--db-user", description = "Database user (or SKEIN_DB_USER).")
  String dbUser;

  @Option(names = "--db-password-file", description = "A file whose first line is the database password (or set SKEIN_DB_PASSWORD).")
  Path dbPasswordFile;

  /** Refused: a password on the command line shows in every process listing. */
  @Option(names = "--db-password", hidden = true)
  String dbPassword;

  /**
   * The node `skein run` and `skein preview` start for the user's own spec on their own machine: on
   * 127.0.0.1, with the simulator, and starting the MCP server commands the spec names. It is a
   * cluster of one that no other node joins, so it stops without leaving the cluster: leaving is
   * gossip a member of a real cluster needs (its shards move first), and here it cost ~1 s of every
   * run's end.
   */
  NodeOptions localNode() {
    return localNode(null);
  }

  /** A local node that serves its HTTP API on 127.0.0.1:{@code httpPort} (none: null). */
  NodeOptions localNode(Integer httpPort) {
    return node("127.0.0.1", 0, java.util.List.of(), httpPort, true).withSettings(LOCAL_NODE);
  }

  static final java.util.Map<String, Object> LOCAL_NODE = java.util.Map.of(
      "skein.tools.allow-spec-commands", true,
      "pekko.coordinated-shutdown.phases.cluster-leave.enabled", false,
      "pekko.coordinated-shutdown.phases.cluster-exiting.enabled", false,
      "pekko.remote.artery.advanced.shutdown-flush-timeout", "100ms");

  NodeOptions node(String host, int port, java.util.List<String> seeds, Integer httpPort, boolean simulator) {
    if (dbPassword != null) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "--db-password is not taken: a password on the command line shows in process listings;"
              + " set SKEIN_DB_PASSWORD or pass --db-password-file FILE");
    }
    String password = null;
    if (dbPasswordFile != null) {
      try {
        password = java.nio.file.Files.readAllLines(dbPasswordFile).stream().findFirst().orElse("").strip();
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("cannot read --db-password-file " + dbPasswordFile + ": " + e.getMessage());
      }
    }
    return new NodeOptions(dataDir, config, dbUrl, dbUser, password, host, port, seeds, httpPort, simulator);
  }

  /** The store's settings ({@code skein.*}), as a node on it would read them. */
  com.typesafe.config.Config skein() {
    return SkeinNode.config(node("127.0.0.1", 0, java.util.List.of(), null, false)).getConfig("skein");
  }

  /** The store's database, opened without starting a node (the schema is created if absent). */
  static io.skein.coordinator.store.SkeinDb open(com.typesafe.config.Config skein) {
    return io.skein.coordinator.store.SkeinDb.open(skein.getString("db.url"), blank(skein.getString("db.user")),
        blank(skein.getString("db.password")), 2);
  }

  private static String blank(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
