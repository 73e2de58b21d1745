package io.skein.deploy;

import com.typesafe.config.ConfigFactory;
import io.skein.deploy.sim.ModelSimulator;
import io.skein.deploy.sim.SimulatorSettings;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** A simulator in the test's own JVM, outliving the Skein processes the test kills and restarts. */
final class TestSimulator implements AutoCloseable {

  final ModelSimulator simulator;
  private final ActorSystem<Void> system;

  TestSimulator(SimulatorSettings settings) throws Exception {
    this(settings, "127.0.0.1");
  }

  TestSimulator(SimulatorSettings settings, String host) throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "test-simulator",
        ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
    simulator = ModelSimulator.start(system, settings, host, 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** What the simulator has answered so far: requests, how many were injected faults, and requests by the node that sent them. */
  record Seen(long requests, long faults, java.util.Map<String, Long> byNode) {
    long from(String node) {
      return byNode.getOrDefault(node, 0L);
    }
  }

  Seen seen() {
    var stats = simulator.stats();
    long all = stats.byStatus().values().stream().mapToLong(Long::longValue).sum();
    return new Seen(stats.requests(), all - stats.byStatus().getOrDefault("200", 0L), stats.byNode());
  }

  /**
   * What it has seen once nothing is in flight and the count has stood still for half a second:
   * after a kill, requests the dead process had written may still sit in the socket buffers.
   */
  Seen quiet() throws InterruptedException {
    long last = -1;
    long stableSince = System.nanoTime();
    long deadline = stableSince + TimeUnit.MINUTES.toNanos(1);
    while (true) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the simulator's request count never stood still: " + simulator.stats());
      }
      var stats = simulator.stats();
      if (stats.requests() != last || stats.inFlight() > 0) {
        last = stats.requests();
        stableSince = System.nanoTime();
      } else if (System.nanoTime() - stableSince > 500_000_000L) {
        return seen();
      }
      Thread.sleep(20);
    }
  }

  @Override
  public void close() {
    system.terminate();
  }
}
