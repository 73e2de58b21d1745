package io.skein.deploy;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A Skein command ({@code run}, {@code node}) in a JVM of its own, on this test's classpath, so a
 * test can SIGKILL it mid-job and start it again. Its output goes to a log file the test can read.
 */
final class SkeinProcess implements AutoCloseable {

  private final Process process;
  private final Path log;

  private SkeinProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  static SkeinProcess start(Path log, Map<String, String> env, String... args) throws IOException {
    return start(log, env, List.of(), args);
  }

  /** Runs the command behind {@code prefix} (e.g. {@code ip netns exec ns1}). */
  static SkeinProcess start(Path log, Map<String, String> env, List<String> prefix, String... args) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    return launch(log, env, command);
  }

  /** Any command that runs Skein (say, the image's launcher), with the same clean environment. */
  static SkeinProcess launch(Path log, Map<String, String> env, List<String> command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().remove("OPENAI_BASE_URL");
    pb.environment().remove("OPENAI_API_KEY");
    pb.environment().remove("SKEIN_DB_URL");
    pb.environment().putAll(env);
    return new SkeinProcess(pb.start(), log);
  }

  /** SIGKILL: no shutdown hook, no flush; what was not committed is lost. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: coordinated shutdown. */
  void terminate() throws InterruptedException {
    process.destroy();
    process.waitFor(60, TimeUnit.SECONDS);
  }

  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("process did not end within " + timeout + "; log:\n" + output());
    }
    return process.exitValue();
  }

  /** The process's command line as the OS sees it now (after an exec, the program it became). */
  String commandLine() {
    return process.info().commandLine().orElse("");
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String output() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "(unreadable log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
      new java.util.concurrent.atomic.AtomicInteger(20_000 + (int) (ProcessHandle.current().pid() % 500) * 20);

  /**
   * A port free now and below the kernel's ephemeral range (32768 and up on Linux), so that no
   * outbound connection of a node started before this one (to the database, to another node) can
   * take it in the moment between here and the node binding it: a port of {@code new
   * ServerSocket(0)} can be, and a cluster test then fails to start.
   */
  static int freePort() throws IOException {
    for (int tries = 0; tries < 2_000; tries++) {
      int port = 20_000 + Math.floorMod(NEXT_PORT.getAndIncrement() - 20_000, 12_000);
      try (ServerSocket s = new ServerSocket(port)) {
        return s.getLocalPort();
      } catch (IOException taken) {
        // in use; try the next
      }
    }
    throw new IOException("no free port between 20000 and 32000");
  }

  /** Polls {@code condition} until it holds; fails with {@code what} (and the process log) if it never does. */
  static void await(String what, Duration timeout, BooleanSupplier condition, SkeinProcess process) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + (process == null ? "" : "; log:\n" + process.output()));
      }
      if (process != null && !process.isAlive()) {
        throw new AssertionError("process ended while waiting for " + what + "; log:\n" + process.output());
      }
      Thread.sleep(50);
    }
  }
}
