package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import picocli.CommandLine.Option;

/**
 * A running node's HTTP API, as the client commands reach it: {@code --server} (default
 * {@code SKEIN_SERVER}) and {@code --token} (default {@code SKEIN_TOKEN}). Every answer that is not
 * a success becomes a {@link Refused} carrying the problem's {@code detail}.
 */
final class RemoteServer {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Option(names = "--server", paramLabel = "URL", defaultValue = "${env:SKEIN_SERVER}",
      description = "A running node's HTTP API, e.g. http://127.0.0.1:8080 (default: SKEIN_SERVER).")
  URI server;

  @Option(names = "--token", defaultValue = "${env:SKEIN_TOKEN}", description = "The server's API token (default: SKEIN_TOKEN;"
      + " prefer the variable: a command line is visible to every user of the machine).")
  String token;

  /** The server answered with an error: its status and what it said. */
  static final class Refused extends Exception {
    final int status;

    Refused(int status, String detail) {
      super(detail);
      this.status = status;
    }
  }

  boolean given() {
    return server != null && !server.toString().isBlank();
  }

  /** True, having said how to name one, when no server is given: the command's usage error (exit 2). */
  boolean missing(String command) {
    if (given()) {
      return false;
    }
    System.err.println("skein " + command + " talks to a running node: give --server URL or set SKEIN_SERVER");
    return true;
  }

  static String job(String id) {
    return "/jobs/" + URLEncoder.encode(id, StandardCharsets.UTF_8);
  }

  HttpRequest.Builder request(String path) {
    String base = server.toString().replaceAll("/+$", "");
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path));
    if (token != null && !token.isBlank()) {
      request.header("Authorization", "Bearer " + token.strip());
    }
    return request;
  }

  JsonNode json(String method, String path) throws IOException, InterruptedException, Refused {
    HttpResponse<String> r = CLIENT.send(request(path).timeout(Duration.ofMinutes(2)).method(method, HttpRequest.BodyPublishers.noBody())
        .build(), HttpResponse.BodyHandlers.ofString());
    check(r.statusCode(), r.body());
    return r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
  }

  JsonNode send(HttpRequest request) throws IOException, InterruptedException, Refused {
    HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    check(r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  /** Streams a resource into {@code file} (not held in memory); a refusal leaves no file behind. */
  void download(String path, Path file) throws IOException, InterruptedException, Refused {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      java.nio.file.Files.createDirectories(parent);
    }
    Path partial = file.resolveSibling(file.getFileName() + ".part");
    HttpResponse<Path> r = CLIENT.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofFile(partial));
    if (r.statusCode() / 100 != 2) {
      String body = java.nio.file.Files.readString(partial);
      java.nio.file.Files.deleteIfExists(partial);
      check(r.statusCode(), body);
    }
    java.nio.file.Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Reads a Server-Sent Events stream, handing each event's type and data to {@code onEvent}, until
   * the server ends it (true) or {@code onEvent} says to stop (false returned from it).
   */
  void events(String path, EventHandler onEvent) throws IOException, InterruptedException, Refused {
    HttpResponse<Stream<String>> r = CLIENT.send(request(path).header("Accept", "text/event-stream").GET().build(),
        HttpResponse.BodyHandlers.ofLines());
    if (r.statusCode() != 200) {
      try (Stream<String> lines = r.body()) {
        check(r.statusCode(), String.join("\n", (Iterable<String>) lines::iterator));
      }
    }
    try (Stream<String> lines = r.body()) {
      String type = "message";
      StringBuilder data = new StringBuilder();
      for (String line : (Iterable<String>) lines::iterator) {
        if (line.isEmpty()) {
          if (data.length() > 0 && !onEvent.on(type, JSON.readTree(data.toString()))) {
            return;
          }
          type = "message";
          data.setLength(0);
        } else if (line.startsWith("event:")) {
          type = line.substring(6).strip();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).stripLeading());
        }
      }
    }
  }

  interface EventHandler {
    /** False: stop reading. */
    boolean on(String type, JsonNode data) throws IOException;
  }

  private static void check(int status, String body) throws Refused {
    if (status / 100 == 2) {
      return;
    }
    throw new Refused(status, detail(body, status));
  }

  /** The {@code detail} of a problem+json answer, else the body as it came. */
  static String detail(String body, int status) {
    try {
      JsonNode problem = JSON.readTree(body);
      if (problem != null && problem.hasNonNull("detail")) {
        // A spec's problems, each with where it is, one a line (the detail names the first).
        StringBuilder text = new StringBuilder(problem.get("detail").asText());
        if (problem.path("errors").size() > 1) {
          problem.get("errors").forEach(e -> text.append("\n  ").append(e.path("path").asText()).append(": ").append(e.path("message").asText()));
        }
        return text.toString();
      }
    } catch (IOException e) {
      // not JSON: the body as it came
    }
    return body == null || body.isBlank() ? "HTTP " + status : body;
  }
}
