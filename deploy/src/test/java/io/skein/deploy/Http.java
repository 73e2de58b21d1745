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
import java.util.Map;

/** A small client of a node's HTTP API for tests. */
final class Http {

  static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  record Response(int status, String contentType, String body, Map<String, List<String>> headers) {
    Response(int status, String contentType, String body) {
      this(status, contentType, body, Map.of());
    }

    /** The first value of header {@code name}, or null. */
    String header(String name) {
      return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(e -> e.getValue().get(0)).findFirst()
          .orElse(null);
    }

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
  /** The {@code Authorization} header every request carries, or null. */
  private final String authorization;

  Http(int port) {
    this("127.0.0.1", port);
  }

  Http(String host, int port) {
    this("http://" + host + ":" + port, (String) null);
  }

  private Http(String base, String authorization) {
    this.base = base;
    this.authorization = authorization;
  }

  /** The same server, every request sending {@code Authorization: Bearer token}. */
  Http withToken(String token) {
    return new Http(base, "Bearer " + token);
  }

  /** The same server, every request sending this {@code Authorization} header as it is. */
  Http withAuthorization(String header) {
    return new Http(base, header);
  }

  Response get(String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  Response post(String path, String contentType, String body) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  /** POST of raw bytes (text that is not UTF-8, say). */
  Response post(String path, String contentType, byte[] body) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  Response delete(String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
  }

  /** Any method, with a body of raw bytes when not null. */
  Response request(String method, String path, String contentType, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    return send(contentType == null ? b : b.header("Content-Type", contentType));
  }

  /**
   * A request over a plain socket that reads the answer while the body is still being sent, as curl
   * does: a server refusing a body it is told is too big answers at once and closes, and the JDK's
   * client, which sends the whole body first (its Expect: 100-continue hangs on JDK 17 when the answer
   * is not a 100), would see only the closed connection. Reads at most 60 s.
   */
  Response rawRequest(String method, String path, String contentType, byte[] body) throws Exception {
    URI uri = URI.create(base);
    try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(60_000);
      String head = method + " " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nContent-Type: " + contentType
          + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
      var out = socket.getOutputStream();
      out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      Thread sender = new Thread(() -> {
        try {
          out.write(body);
          out.flush();
        } catch (java.io.IOException refused) {
          // The server answered and closed: the rest of the body is not wanted.
        }
      });
      sender.setDaemon(true);
      sender.start();
      return answer(socket.getInputStream());
    }
  }

  /**
   * A POST whose body is streamed from {@code body} in chunks ({@code Transfer-Encoding: chunked}, no
   * declared length), over a plain socket that reads the answer while the body is still being sent (a
   * server refusing a body past its limit answers and closes). Reads at most 60 s.
   */
  Response rawStream(String path, String contentType, java.io.InputStream body) throws Exception {
    return rawStream(path, contentType, body, -1);
  }

  /** The same with a declared {@code Content-Length} ({@code length} bytes), as curl -F sends a file; -1: chunked. */
  Response rawStream(String path, String contentType, java.io.InputStream body, long length) throws Exception {
    URI uri = URI.create(base);
    boolean chunked = length < 0;
    try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(60_000);
      var out = new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16);
      out.write(("POST " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nContent-Type: " + contentType
          + (chunked ? "\r\nTransfer-Encoding: chunked" : "\r\nContent-Length: " + length)
          + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      Thread sender = new Thread(() -> {
        byte[] chunk = new byte[1 << 16];
        try (body) {
          for (int n; (n = body.read(chunk)) > 0; ) {
            if (chunked) {
              out.write((Integer.toHexString(n) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            out.write(chunk, 0, n);
            if (chunked) {
              out.write("\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
          }
          if (chunked) {
            out.write("0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          }
          out.flush();
        } catch (java.io.IOException refused) {
          // The server answered and closed: the rest of the body is not wanted.
        }
      });
      sender.setDaemon(true);
      sender.start();
      return answer(socket.getInputStream());
    }
  }

  /**
   * An HTTP/1.1 answer read off a socket (its body as sent: not de-chunked), up to the connection's
   * end; a reset after a whole answer (a server closing with the rest of the body unread) still
   * gives the answer.
   */
  private static Response answer(java.io.InputStream in) throws java.io.IOException {
    java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        answer.write(buffer, 0, n);
      }
    } catch (java.net.SocketException reset) {
      if (answer.size() == 0) {
        throw reset;
      }
    }
    String text = answer.toString(java.nio.charset.StandardCharsets.UTF_8);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      throw new java.io.IOException("no complete answer: " + text);
    }
    String[] lines = text.substring(0, end).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    String type = "";
    for (String line : lines) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-type:")) {
        type = line.substring("content-type:".length()).strip();
      }
    }
    return new Response(status, type, text.substring(end + 4));
  }

  /** A POST whose body is streamed from a supplier's stream (the JDK client sends it chunked, then reads the answer). */
  Response postStream(String path, String contentType, java.util.function.Supplier<java.io.InputStream> body) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofInputStream(body)));
  }

  Response multipart(String path, String spec, String records) throws Exception {
    return multipart(path, spec, records, "records.jsonl", "application/x-ndjson");
  }

  /** A multipart job whose records part has this file name and content type (a CSV file, say). */
  Response multipart(String path, String spec, String records, String fileName, String contentType) throws Exception {
    return multipart(path, spec, records == null ? null : records.getBytes(java.nio.charset.StandardCharsets.UTF_8), fileName, contentType);
  }

  /** The same with the records part's bytes (a Parquet file). */
  Response multipart(String path, String spec, byte[] records, String fileName, String contentType) throws Exception {
    String boundary = "skein-test-boundary";
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    java.nio.charset.Charset utf8 = java.nio.charset.StandardCharsets.UTF_8;
    b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"spec\"; filename=\"spec.yaml\"\r\n"
        + "Content-Type: application/yaml\r\n\r\n" + spec + "\r\n").getBytes(utf8));
    if (records != null) {
      b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"records\"; filename=\"" + fileName
          + "\"\r\nContent-Type: " + contentType + "\r\n\r\n").getBytes(utf8));
      b.writeBytes(records);
      b.writeBytes("\r\n".getBytes(utf8));
    }
    b.writeBytes(("--" + boundary + "--\r\n").getBytes(utf8));
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray())));
  }

  /** GET as bytes: a Parquet download. */
  byte[] bytes(String path) throws Exception {
    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new AssertionError(path + ": " + r.statusCode() + " " + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
    }
    return r.body();
  }

  private Response send(HttpRequest.Builder request) throws Exception {
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    HttpResponse<String> r = client.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    return new Response(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body(), r.headers().map());
  }

  /** Submits a job as JSON: a YAML spec and {@code records} (null: the spec's own input); returns its id. */
  String submitJob(String yamlSpec, List<? extends JsonNode> records) throws Exception {
    com.fasterxml.jackson.databind.node.ObjectNode body = JSON.createObjectNode();
    body.set("spec", JSON.valueToTree(new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readValue(yamlSpec, Object.class)));
    if (records != null) {
      body.putArray("records").addAll(records);
    }
    Response r = post("/jobs", "application/json", body.toString());
    if (r.status() != 201) {
      throw new AssertionError("the job was not accepted: " + r.status() + " " + r.body());
    }
    return r.json().get("id").asText();
  }

  /** {@code n} records {"id": prefix + i, "topic": "topic " + i}. */
  static List<JsonNode> topics(String prefix, int n) {
    List<JsonNode> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(JSON.createObjectNode().put("id", prefix + i).put("topic", "topic " + i));
    }
    return out;
  }

  /** Polls a job until it reaches {@code state}; a job that ends in another state fails at once. */
  JsonNode awaitState(String jobId, String state, Duration timeout) throws Exception {
    java.util.Set<String> ends = java.util.Set.of("succeeded", "failed", "cancelled");
    return awaitStatus(jobId, "reach " + state, s -> {
      String now = s.get("state").asText();
      if (ends.contains(state) && ends.contains(now) && !now.equals(state)) {
        throw new AssertionError("job " + jobId + " ended " + now + ", not " + state + ": " + s);
      }
      return now.equals(state);
    }, timeout);
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
