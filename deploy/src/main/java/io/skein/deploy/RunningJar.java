package io.skein.deploy;

import java.nio.file.Path;

/** The jar this process runs from and the java that runs it: what the benchmarks start more processes with. */
final class RunningJar {

  private RunningJar() {}

  /** The jar (or, from an IDE or the test classpath, the classes directory) Skein's classes come from. */
  static Path path() throws java.net.URISyntaxException {
    return Path.of(RunningJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  /** This process's java executable. */
  static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
