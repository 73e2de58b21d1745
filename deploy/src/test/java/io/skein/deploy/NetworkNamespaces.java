package io.skein.deploy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Hosts for partition tests: one network namespace per node, each with a veth to a bridge in the
 * test's namespace ({@code 10.213.N.1}), where the test serves PostgreSQL (through a proxy) and the
 * simulator. {@link #cut} isolates a node from the other nodes only, with blackhole routes, so it
 * still reaches the database and the models: the split-brain case that matters.
 */
final class NetworkNamespaces implements AutoCloseable {

  private final String prefix;
  private final int subnet;
  private final int size;

  private NetworkNamespaces(String prefix, int subnet, int size) {
    this.prefix = prefix;
    this.subnet = subnet;
    this.size = size;
  }

  /** Why namespaces cannot be made here, or empty if they can. */
  static Optional<String> unavailable() {
    String probe = "skprobe" + ProcessHandle.current().pid();
    try {
      ip("netns", "add", probe);
      ip("netns", "del", probe);
      return Optional.empty();
    } catch (Exception e) {
      return Optional.of(e.getMessage());
    }
  }

  static NetworkNamespaces create(int size) throws Exception {
    int subnet = 100 + (int) (ProcessHandle.current().pid() % 150);
    NetworkNamespaces n = new NetworkNamespaces("sk" + subnet, subnet, size);
    n.remove();
    String bridge = n.prefix + "br";
    ip("link", "add", bridge, "type", "bridge");
    ip("addr", "add", n.hostIp() + "/24", "dev", bridge);
    ip("link", "set", bridge, "up");
    for (int i = 0; i < size; i++) {
      String ns = n.ns(i);
      String host = n.prefix + "v" + i + "h";
      String inner = n.prefix + "v" + i + "n";
      ip("netns", "add", ns);
      ip("link", "add", host, "type", "veth", "peer", "name", inner);
      ip("link", "set", inner, "netns", ns);
      ip("link", "set", host, "master", bridge);
      ip("link", "set", host, "up");
      ip("netns", "exec", ns, "ip", "addr", "add", n.ip(i) + "/24", "dev", inner);
      ip("netns", "exec", ns, "ip", "link", "set", inner, "up");
      ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
    }
    return n;
  }

  String hostIp() {
    return "10.213." + subnet + ".1";
  }

  String ip(int i) {
    return "10.213." + subnet + "." + (11 + i);
  }

  private String ns(int i) {
    return prefix + "n" + i;
  }

  List<String> exec(int i) {
    return List.of("ip", "netns", "exec", ns(i));
  }

  /** Node {@code i} and the other nodes can no longer reach each other; both still reach the host. */
  void cut(int i) throws Exception {
    routes(i, "add");
  }

  void heal(int i) throws Exception {
    routes(i, "del");
  }

  private void routes(int i, String op) throws Exception {
    for (int j = 0; j < size; j++) {
      if (j != i) {
        ip("netns", "exec", ns(i), "ip", "route", op, "blackhole", ip(j) + "/32");
        ip("netns", "exec", ns(j), "ip", "route", op, "blackhole", ip(i) + "/32");
      }
    }
  }

  private void remove() {
    for (int i = 0; i < size; i++) {
      quietly("netns", "del", ns(i));
      quietly("link", "del", prefix + "v" + i + "h");
    }
    quietly("link", "del", prefix + "br");
  }

  @Override
  public void close() {
    remove();
  }

  private static void quietly(String... args) {
    try {
      ip(args);
    } catch (Exception ignored) {
      // already gone
    }
  }

  private static void ip(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add("ip");
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + out.trim());
    }
  }
}
