package io.skein.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code skein node}: a server node with the HTTP API; SIGTERM shuts it down gracefully. */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Start a Skein node: the HTTP API (port 8080), jobs and records, on H2 under --data-dir or on PostgreSQL.")
final class NodeCommand implements Callable<Integer> {

  @Mixin
  StoreOptions store;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind and advertise for the cluster (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "2551", description = "Cluster port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--http-port", description = "HTTP port (default: skein.http.port, 8080).")
  Integer httpPort;

  @Option(names = "--seed", description = "A seed node host:port; repeat for several. None: form a cluster of one.")
  List<String> seeds = new ArrayList<>();

  @Option(names = "--no-simulator", description = "Do not start the built-in model simulator.")
  boolean noSimulator;

  @Override
  public Integer call() throws Exception {
    // A server process ends with its actor system, whatever stopped it (SIGTERM, or the split brain
    // resolver downing this node): if terminating hangs (say, on a database it can no longer
    // reach), the JVM exits anyway once the last shutdown phase times out, so a supervisor or
    // Kubernetes restarts it instead of finding a zombie member. A downed node exits with 255.
    System.setProperty("pekko.coordinated-shutdown.exit-jvm", "on");
    NodeOptions options = store.node(host, port, seeds,
        httpPort != null ? httpPort : SkeinNode.config(NodeOptions.local(store.dataDir)).getInt("skein.http.port"), !noSimulator);
    SkeinNode node;
    try {
      node = SkeinNode.start(options);
    } catch (Exception e) {
      System.err.println("skein node: could not start: " + RunCommand.rootMessage(e) + hint(e));
      return 1;
    }
    System.out.println("Skein node up: HTTP on port " + node.httpPort() + ", cluster on " + host + ":" + port
        + (node.simulator() != null ? ", simulator at " + node.simulator().baseUrl() : ""));
    node.awaitTermination();
    return 0;
  }

  /** What to do about a port in use. */
  private static String hint(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.net.BindException) {
        return " — another process listens there: stop it, or pass another --http-port (or --port for the cluster)";
      }
    }
    return "";
  }
}
