package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A small client of a node's HTTP API for tests. */
final class Http {

  static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  record Response(int status, String contentType, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    List<JsonNode> lines() {
      List<JsonNode> out = new ArrayList<>();
      for (String line : body.split("\n")) {
        if (!line.isBlank()) {
          try {
            out.add(JSON.readTree(line));
          } catch (Exception e) {
            throw new AssertionError("not NDJSON: " + line, e);
          }
        }
      }
      return out;
    }
  }

  private final String base;

  Http(int port) {
    this("127.0.0.1", port);
  }

  Http(String host, int port) {
    this.base = "http://" + host + ":" + port;
  }

  Response get(String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  Response post(String path, String contentType, String body) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  Response multipart(String path, String spec, String records) throws Exception {
    String boundary = "skein-test-boundary";
    StringBuilder b = new StringBuilder();
    b.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"spec\"; filename=\"spec.yaml\"\r\n")
        .append("Content-Type: application/yaml\r\n\r\n").append(spec).append("\r\n");
    if (records != null) {
      b.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"records\"; filename=\"records.jsonl\"\r\n")
          .append("Content-Type: application/x-ndjson\r\n\r\n").append(records).append("\r\n");
    }
    b.append("--").append(boundary).append("--\r\n");
    return post(path, "multipart/form-data; boundary=" + boundary, b.toString());
  }

  private Response send(HttpRequest.Builder request) throws Exception {
    HttpResponse<String> r = client.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    return new Response(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
  }

  /** Polls a job until it reaches {@code state}. */
  JsonNode awaitState(String jobId, String state, Duration timeout) throws Exception {
    return awaitStatus(jobId, "reach " + state, s -> s.get("state").asText().equals(state), timeout);
  }

  /** Polls a job's status until {@code condition} holds; returns that status. */
  JsonNode awaitStatus(String jobId, String what, java.util.function.Predicate<JsonNode> condition, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode status = get("/jobs/" + jobId).json();
      if (condition.test(status)) {
        return status;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + jobId + " did not " + what + ": " + status);
      }
      Thread.sleep(50);
    }
  }
}
