package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Skein nodes as separate JVMs (on 127.0.0.1, or in network namespaces), each listing every node as a seed, sharing one
 * PostgreSQL schema and a simulator in the test's JVM. Nodes can be SIGKILLed, SIGTERMed and
 * started again on the same ports.
 */
final class ClusterFixture implements AutoCloseable {

  final Path dir;
  final String dbUrl;
  final TestSimulator sim;
  final int[] ports;
  final int[] httpPorts;
  final SkeinProcess[] nodes;
  private final Path config;
  private final int[] starts;
  final String[] hosts;
  private final List<List<String>> prefixes;

  ClusterFixture(Path dir, String dbUrl, TestSimulator sim, int size, String extraConfig) throws Exception {
    this(dir, dbUrl, sim, size, extraConfig, null, null);
  }

  /** Nodes on {@code hosts} (one each), started behind {@code prefixes} (e.g. to run in network namespaces). */
  ClusterFixture(Path dir, String dbUrl, TestSimulator sim, int size, String extraConfig, String[] hosts,
      List<List<String>> prefixes) throws Exception {
    this.hosts = hosts != null ? hosts : java.util.Collections.nCopies(size, "127.0.0.1").toArray(String[]::new);
    this.prefixes = prefixes != null ? prefixes : java.util.Collections.nCopies(size, List.<String>of());
    this.dir = dir;
    this.dbUrl = dbUrl;
    this.sim = sim;
    this.ports = new int[size];
    this.httpPorts = new int[size];
    this.nodes = new SkeinProcess[size];
    this.starts = new int[size];
    for (int i = 0; i < size; i++) {
      ports[i] = SkeinProcess.freePort();
      httpPorts[i] = SkeinProcess.freePort();
    }
    this.config = dir.resolve("cluster.conf");
    // Nodes on network namespaces' addresses listen beyond loopback: the test's cluster runs open, on purpose.
    Files.writeString(config, "skein.http.auth.required = off\n" + extraConfig);
  }

  /** Instead of seed nodes, each node's own env (say, to find the others through a Kubernetes API). */
  private java.util.function.IntFunction<Map<String, String>> discovery;

  ClusterFixture discoverBy(java.util.function.IntFunction<Map<String, String>> env) {
    this.discovery = env;
    return this;
  }

  void start(int i) throws Exception {
    List<String> args = new ArrayList<>(List.of("node", "--host", hosts[i], "--port", String.valueOf(ports[i]),
        "--http-port", String.valueOf(httpPorts[i]),
        "--db-url", dbUrl, "--data-dir", dir.resolve("node" + i).toString(), "--config", config.toString(), "--no-simulator"));
    Map<String, String> env = new HashMap<>(Map.of("OPENAI_BASE_URL", sim.simulator.baseUrl(), "SKEIN_LOG_LEVEL", "INFO"));
    if (discovery != null) {
      env.putAll(discovery.apply(i));
    } else {
      for (int j = 0; j < ports.length; j++) {
        args.add("--seed");
        args.add(hosts[j] + ":" + ports[j]);
      }
    }
    nodes[i] = SkeinProcess.start(dir.resolve("node" + i + "-" + (++starts[i]) + ".log"), env, prefixes.get(i),
        args.toArray(String[]::new));
  }

  void startAll() throws Exception {
    for (int i = 0; i < nodes.length; i++) {
      start(i);
    }
    awaitUp(nodes.length);
  }

  String name(int i) {
    return "skein@" + hosts[i] + ":" + ports[i];
  }

  int indexOf(String node) {
    for (int i = 0; i < ports.length; i++) {
      if (node.endsWith("@" + hosts[i] + ":" + ports[i])) {
        return i;
      }
    }
    throw new AssertionError("no node " + node);
  }

  boolean alive(int i) {
    return nodes[i] != null && nodes[i].isAlive();
  }

  Http http(int i) {
    return new Http(hosts[i], httpPorts[i]);
  }

  /** A client of some node that is running. */
  Http anyLive() {
    for (int i = 0; i < nodes.length; i++) {
      if (alive(i)) {
        return http(i);
      }
    }
    throw new AssertionError("no node is running");
  }

  /** Waits until every running node sees {@code count} members up and reachable and serves HTTP. */
  void awaitUp(int count) throws InterruptedException {
    SkeinProcess.await(count + " members up", Duration.ofMinutes(2), () -> {
      int serving = 0;
      for (int i = 0; i < nodes.length; i++) {
        if (alive(i)) {
          if (upMembers(i) != count) {
            return false;
          }
          serving++;
        }
      }
      return serving >= count;
    }, null);
  }

  /** Members node {@code i} sees up and reachable; -1 if it does not answer. */
  int upMembers(int i) {
    try {
      Http.Response r = http(i).get("/cluster");
      if (r.status() != 200) {
        return -1;
      }
      int up = 0;
      for (JsonNode m : r.json().get("members")) {
        if (m.get("status").asText().equals("up") && m.get("reachable").asBoolean()) {
          up++;
        }
      }
      return up;
    } catch (Exception e) {
      return -1;
    }
  }

  /** Waits until the killed node's requests reached the simulator (some may sit in socket buffers). */
  TestSimulator.Seen afterKill(String node) throws InterruptedException {
    long last = -1;
    long stableSince = System.nanoTime();
    long deadline = stableSince + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
    while (true) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the killed node's request count never stood still: " + sim.simulator.stats().byNode());
      }
      long now = sim.simulator.stats().byNode().getOrDefault(node, 0L);
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      } else if (System.nanoTime() - stableSince > 1_000_000_000L) {
        return sim.seen();
      }
      Thread.sleep(20);
    }
  }

  JsonNode awaitSucceeded(String jobId, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        JsonNode status = anyLive().get("/jobs/" + jobId).json();
        if (!Set.of("running", "succeeded").contains(status.get("state").asText())) {
          throw new AssertionError("the job never stops: " + status);
        }
        if (status.get("state").asText().equals("succeeded")) {
          return status;
        }
      } catch (java.io.IOException e) {
        // that node just went down; ask another next time
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + jobId + " did not succeed in time");
      }
      Thread.sleep(100);
    }
  }

  /** Calls of job {@code jobId} (and of its stages) whose answer or failure the journal holds, by the node that made them. */
  Map<String, Long> persistedCallsByNode(String jobId) throws Exception {
    Map<String, Long> out = new HashMap<>();
    CBORMapper cbor = new CBORMapper();
    try (Connection c = DriverManager.getConnection(dbUrl);
        PreparedStatement ps = c.prepareStatement("SELECT event_payload FROM event_journal WHERE (persistence_id LIKE ? OR persistence_id LIKE ?) "
            + "AND (event_ser_manifest LIKE '%CallSucceeded' OR event_ser_manifest LIKE '%CallFailed')")) {
      ps.setString(1, "Record|" + jobId + "/%");
      ps.setString(2, "Record|" + jobId + ".%/%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.merge(cbor.readTree(rs.getBytes(1)).get("node").asText(), 1L, Long::sum);
        }
      }
    }
    return out;
  }

  /** The latest time any of these records journaled something. */
  long lastWrite(List<String> recordKeys) throws Exception {
    try (Connection c = DriverManager.getConnection(dbUrl);
        PreparedStatement ps = c.prepareStatement("SELECT MAX(write_timestamp) FROM event_journal WHERE persistence_id = ANY (?)")) {
      ps.setArray(1, c.createArrayOf("varchar", recordKeys.stream().map(k -> "Record|" + k).toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Override
  public void close() throws Exception {
    for (SkeinProcess node : nodes) {
      if (node != null) {
        node.close();
      }
    }
  }
}
