package io.skein.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Skein's simulator in a JVM of its own ({@code java -jar skein.jar simulate}), for benchmarks that
 * must not share the node's JVM with the model: started on a free port, ready once {@code /stats}
 * answers, stopped on close.
 */
final class ExternalSimulator implements AutoCloseable {

  private final Process process;
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();

  private ExternalSimulator(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static ExternalSimulator start(long latencyMs, double jitter, double badJsonRate) throws Exception {
    Path jar = RunningJar.path();
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    List<String> command = new ArrayList<>(List.of(RunningJar.java(), "-jar", jar.toString(),
        "simulate", "--port", String.valueOf(port), "--latency-ms", String.valueOf(latencyMs), "--jitter", String.valueOf(jitter),
        "--bad-json-rate", String.valueOf(badJsonRate)));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    ExternalSimulator simulator = new ExternalSimulator(process, port);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try {
        simulator.stats();
        return simulator;
      } catch (java.io.IOException e) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          simulator.close();
          throw new IllegalStateException("the simulator on port " + port + " did not answer within 60 s (timeout)", e);
        }
        Thread.sleep(100);
      }
    }
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port + "/v1";
  }

  /** Requests answered so far, from its {@code /stats}. */
  long requests() {
    try {
      return stats();
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException("could not read the simulator's /stats on port " + port, e);
    }
  }

  private long stats() throws java.io.IOException, InterruptedException {
    HttpResponse<String> stats = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stats"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return new ObjectMapper().readTree(stats.body()).path("requests").asLong();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
