package io.skein.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Nodes in the test's own JVM: H2 in a temporary directory, the HTTP API on a free port, the built-in simulator. */
final class TestNodes {

  private TestNodes() {}

  /** A node whose simulator answers after {@code latency} (a HOCON duration such as {@code 5ms}). */
  static SkeinNode withSimulatorLatency(String name, String latency) throws Exception {
    Path dir = Files.createTempDirectory("skein-" + name);
    Path config = Files.writeString(dir.resolve("sim.conf"), "skein.simulator { latency = " + latency + " }\n");
    return SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true));
  }
}
