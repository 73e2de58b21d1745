package io.skein.deploy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How to start a node: where its data lives, which database, its addresses, and whether it serves
 * HTTP, plus config settings. {@code port} 0 picks a free cluster port (local runs); no seeds means the node forms a
 * cluster of its own.
 */
public record NodeOptions(
    Path dataDir,
    Path configFile,
    String dbUrl,
    String dbUser,
    String dbPassword,
    String host,
    int port,
    List<String> seeds,
    Integer httpPort,
    boolean embeddedSimulator,
    Map<String, Object> settings) {

  public NodeOptions(Path dataDir, Path configFile, String dbUrl, String dbUser, String dbPassword, String host, int port,
      List<String> seeds, Integer httpPort, boolean embeddedSimulator) {
    this(dataDir, configFile, dbUrl, dbUser, dbPassword, host, port, seeds, httpPort, embeddedSimulator, Map.of());
  }

  public static NodeOptions local(Path dataDir) {
    return new NodeOptions(dataDir, null, null, null, null, "127.0.0.1", 0, List.of(), null, true);
  }

  /** The same, with config settings (HOCON paths) that take precedence over every file. */
  public NodeOptions withSettings(Map<String, Object> more) {
    Map<String, Object> all = new java.util.HashMap<>(settings);
    all.putAll(more);
    return new NodeOptions(dataDir, configFile, dbUrl, dbUser, dbPassword, host, port, seeds, httpPort, embeddedSimulator, all);
  }

  /** Never the password: options end up in logs and error messages. */
  @Override
  public String toString() {
    return "NodeOptions[dataDir=" + dataDir + ", configFile=" + configFile + ", dbUrl=" + redactUrl(dbUrl) + ", dbUser=" + dbUser
        + ", dbPassword=" + (dbPassword == null ? "none" : "***") + ", host=" + host + ", port=" + port + ", seeds=" + seeds
        + ", httpPort=" + httpPort + ", embeddedSimulator=" + embeddedSimulator + ", settings=" + settings.keySet() + "]";
  }

  /** A JDBC URL without the password it may carry ({@code password=...} or {@code user:password@}). */
  public static String redactUrl(String url) {
    return url == null ? null : url.replaceAll("(?i)(password=)[^&;]*", "$1***").replaceAll("//([^/:@]+):[^/@]*@", "//$1:***@");
  }
}
