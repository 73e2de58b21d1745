package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.LongFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Multipart uploads streamed into the database (a real node, real HTTP): a records part far over
 * {@code max-request-size} is stored row for row, one over {@code max-upload-size} is a 413, and a
 * repeated id deep in an upload a 400 naming both records; a refused upload leaves neither a job
 * nor any of its inputs behind.
 */
class StreamedUploadTest {

  private static final String BOUNDARY = "skein-stream-boundary";
  private static final String SPEC = """
      name: streamed
      steps:
        - {name: shout, kind: expression, expr: "{{ topic | upper }}"}
      """;
  private static final int LINES = 150_000;

  private static SkeinNode node;
  private static Http http;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("skein-upload-test");
    Path config = dir.resolve("test.conf");
    Files.writeString(config, """
        skein.http.max-request-size = 1m
        skein.http.max-upload-size = 25m
        """);
    node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true));
    http = new Http(node.httpPort());
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  /** Line i of an upload: about 130 bytes, id {@code r<i>} (or, at {@code repeatAt}, {@code repeatOf}'s). */
  private static String line(long i, long repeatAt, long repeatOf) {
    return "{\"id\": \"r" + (i == repeatAt ? repeatOf : i) + "\", \"topic\": \"topic " + i
        + " of a large upload, with enough words in it to make the line a realistic length for a prompt\"}\n";
  }

  /** A multipart body made as it is sent: the spec part, then {@code n} lines of records, never one big array. */
  private static InputStream body(String spec, long n, LongFunction<String> line) {
    String head = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"spec\"; filename=\"spec.yaml\"\r\n"
        + "Content-Type: application/yaml\r\n\r\n" + spec + "\r\n--" + BOUNDARY
        + "\r\nContent-Disposition: form-data; name=\"records\"; filename=\"records.jsonl\"\r\nContent-Type: application/x-ndjson\r\n\r\n";
    String tail = "\r\n--" + BOUNDARY + "--\r\n";
    return new SequenceInputStream(java.util.Collections.enumeration(List.of(
        new ByteArrayInputStream(head.getBytes(StandardCharsets.UTF_8)), lines(n, line),
        new ByteArrayInputStream(tail.getBytes(StandardCharsets.UTF_8)))));
  }

  private static InputStream lines(long n, LongFunction<String> line) {
    return new InputStream() {
      private long i;
      private byte[] current = new byte[0];
      private int at;

      @Override
      public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] into, int offset, int length) {
        if (at == current.length) {
          if (i == n) {
            return -1;
          }
          current = line.apply(i++).getBytes(StandardCharsets.UTF_8);
          at = 0;
        }
        int k = Math.min(length, current.length - at);
        System.arraycopy(current, at, into, offset, k);
        at += k;
        return k;
      }
    };
  }

  private static final String MULTIPART = "multipart/form-data; boundary=" + BOUNDARY;

  private static long count(String sql) {
    return node.store().db().sync(c -> {
      try (var rs = c.createStatement().executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  /** Input rows no job owns: what a refused upload must not leave. */
  private static long orphanInputs() {
    return count("SELECT COUNT(*) FROM skein_inputs WHERE job_id NOT IN (SELECT id FROM skein_jobs)");
  }

  private static JsonNode problem(Http.Response r, int status) {
    assertEquals(status, r.status(), r.body());
    assertTrue(r.contentType().startsWith("application/problem+json"), r.contentType());
    return r.json();
  }

  @Test
  void aRecordsPartTwentyTimesTheRequestLimitIsStoredRowForRowAndRuns() throws Exception {
    long bytes = 0;
    for (long i = 0; i < LINES; i++) {
      bytes += line(i, -1, -1).length();
    }
    assertTrue(bytes > 18L << 20, "the records are ~20 MB, far over the 1 MB request limit: " + bytes);
    Http.Response created = http.postStream("/jobs", MULTIPART, () -> body(SPEC, LINES, i -> line(i, -1, -1)));
    assertEquals(201, created.status(), created.body());
    String id = created.json().get("id").asText();
    try {
      assertEquals(LINES, http.get("/jobs/" + id).json().get("total").asLong());
      assertEquals(LINES, count("SELECT COUNT(*) FROM skein_inputs WHERE job_id = '" + id + "'"));
      JsonNode status = http.awaitStatus(id, "run its first thousand records", s -> s.get("succeeded").asLong() >= 1000,
          Duration.ofMinutes(2));
      assertEquals(0, status.get("failed").asLong(), status.toString());
      JsonNode first = http.get("/jobs/" + id + "/results").lines().get(0);
      assertEquals("r0", first.get("id").asText());
      assertTrue(first.get("shout").asText().startsWith("TOPIC 0 OF A LARGE UPLOAD"), first.toString());
    } finally {
      http.post("/jobs/" + id + "/cancel", "application/json", "");
    }
  }

  @Test
  void anUploadOverTheUploadLimitIs413AndLeavesNothing() throws Exception {
    long jobs = count("SELECT COUNT(*) FROM skein_jobs");
    long length = body(SPEC, 250_000, i -> line(i, -1, -1)).transferTo(java.io.OutputStream.nullOutputStream());
    assertTrue(length > 25L << 20, "over the 25 MB upload limit: " + length);
    // As curl -F sends a file: its length declared, so the server refuses it before reading any of it.
    JsonNode p = problem(http.rawStream("/jobs", MULTIPART, body(SPEC, 250_000, i -> line(i, -1, -1)), length), 413);
    assertTrue(p.get("detail").asText().contains("skein.http.max-upload-size"), p.toString());

    // Sent in chunks, its length unknown: refused where it passes the limit, once some of it is stored. The server stops
    // reading there, and Pekko HTTP closes the connection (the 413 may not reach the client); what was stored is removed.
    try {
      Http.Response cut = http.rawStream("/jobs", MULTIPART, body(SPEC, 250_000, i -> line(i, -1, -1)));
      assertEquals(413, cut.status(), cut.body());
    } catch (java.io.IOException closed) {
      // The connection closed (reset, or ended with no answer) before the answer: allowed, see above.
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (orphanInputs() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertEquals(0, orphanInputs(), "none of the upload's rows is left");
    assertEquals(jobs, count("SELECT COUNT(*) FROM skein_jobs"), "no job");

    String bigSpec = SPEC + "# " + "x".repeat(2 << 20) + "\n";
    JsonNode spec = problem(http.rawStream("/jobs", MULTIPART, body(bigSpec, 10, i -> line(i, -1, -1))), 413);
    assertTrue(spec.get("detail").asText().contains("`spec` part") && spec.get("detail").asText().contains("max-request-size"),
        spec.toString());
  }

  @Test
  void aRepeatedIdDeepInAnUploadIs400NamingBothRecordsAndLeavesNothing() throws Exception {
    long jobs = count("SELECT COUNT(*) FROM skein_jobs");
    // The JDK's client sends the whole body before it reads the answer: the rest of the upload is read away for it.
    JsonNode p = problem(http.postStream("/jobs", MULTIPART, () -> body(SPEC, LINES, i -> line(i, 120_000, 7))), 400);
    assertEquals("records", p.at("/errors/0/path").asText(), p.toString());
    assertTrue(p.at("/errors/0/message").asText().contains("records 7 and 120000 (counting from 0) both have id \"r7\""), p.toString());
    assertEquals(jobs, count("SELECT COUNT(*) FROM skein_jobs"), "no job");
    assertEquals(0, orphanInputs(), "none of the upload's rows is left");
  }

  @Test
  void recordsSentBeforeTheSpecAreRefusedSayingToSendTheSpecFirst() throws Exception {
    String body = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"records\"; filename=\"records.jsonl\"\r\n\r\n"
        + line(0, -1, -1) + "\r\n--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n" + SPEC + "\r\n--"
        + BOUNDARY + "--\r\n";
    JsonNode p = problem(http.post("/jobs", MULTIPART, body), 400);
    assertEquals("records", p.at("/errors/0/path").asText(), p.toString());
    assertTrue(p.at("/errors/0/message").asText().contains("send `spec` first"), p.toString());
    assertEquals(0, orphanInputs());
  }
}
