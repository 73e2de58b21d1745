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

  @Option(names = "--db-password", description = "Database password (or SKEIN_DB_PASSWORD).")
  String dbPassword;

  NodeOptions node(String host, int port, java.util.List<String> seeds, Integer httpPort, boolean simulator) {
    return new NodeOptions(dataDir, config, dbUrl, dbUser, dbPassword, host, port, seeds, httpPort, simulator);
  }
}
