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

  @Override
  public void close() {
    system.terminate();
  }
}
