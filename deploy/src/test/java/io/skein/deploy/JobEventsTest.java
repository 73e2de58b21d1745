package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the dashboard and a watching client read: a job's status as Server-Sent Events, from the
 * first status to the one that says it ended (then the stream ends), and one record's journal,
 * every event in order; the dashboard's own files are served from the jar.
 */
class JobEventsTest {

  private static SkeinNode node;
  private static Http http;

  @BeforeAll
  static void start() throws Exception {
    node = TestNodes.withSimulatorLatency("events", "30ms");
    http = new Http(node.httpPort());
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  private static final String SPEC = """
      name: watched
      models: {writer: {model: sim-small, max_tokens: 20}}
      max_in_flight: 4
      steps:
        - {name: question, model: writer, prompt: "Ask about {{ topic }}"}
        - {name: topic_ok, kind: validator, validator: regex, target: topic, pattern: "^topic [0-9]*[1-9]$", on_fail: error}
        - {name: answer, model: writer, prompt: "{{ question }}"}
      """;

  /** An event of the stream: its type and its data. */
  record Event(String type, String data) {}

  private static List<Event> events(String jobId) throws Exception {
    HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/jobs/" + jobId + "/events"))
            .header("Accept", "text/event-stream").timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofLines());
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"), response.headers().map().toString());
    // The stream ends by itself once the job has: read it to its end, within a deadline.
    return CompletableFuture.supplyAsync(() -> {
      List<Event> out = new ArrayList<>();
      String type = "message";
      StringBuilder data = new StringBuilder();
      for (String line : (Iterable<String>) response.body()::iterator) {
        if (line.isEmpty()) {
          if (data.length() > 0) {
            out.add(new Event(type, data.toString()));
          }
          type = "message";
          data.setLength(0);
        } else if (line.startsWith("event:")) {
          type = line.substring(6).strip();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).stripLeading());
        }
      }
      return out;
    }).get(2, TimeUnit.MINUTES);
  }

  @Test
  void theEventStreamFollowsAJobToItsEndAndThenCloses() throws Exception {
    int records = 60;
    String id = http.submitJob(SPEC, Http.topics("r", records));
    List<Event> events = events(id);

    assertTrue(events.size() >= 2, "a status at once and at least the final one: " + events);
    long lastDone = -1;
    for (Event e : events) {
      assertEquals("status", e.type(), e.toString());
      JsonNode status = Http.JSON.readTree(e.data());
      assertEquals(id, status.get("id").asText());
      long done = status.get("succeeded").asLong() + status.get("failed").asLong();
      assertTrue(done >= lastDone, "counts only grow: " + events);
      lastDone = done;
    }
    for (int i = 1; i < events.size(); i++) {
      assertTrue(!events.get(i).data().equals(events.get(i - 1).data()), "an event is sent when the status changes, not on every look");
    }
    JsonNode last = Http.JSON.readTree(events.get(events.size() - 1).data());
    assertEquals("succeeded", last.get("state").asText(), "the last event says the job ended");
    assertEquals(records, last.get("succeeded").asInt() + last.get("failed").asInt());
    assertEquals(6, last.get("failed").asInt(), "topics 0, 10, ..., 50 fail the validator");
    assertEquals(last, http.get("/jobs/" + id).json(), "the last event is the job's status");

    // A stream opened on an ended job sends its status once and ends.
    List<Event> again = events(id);
    assertEquals(1, again.size(), again.toString());
    assertEquals(last, Http.JSON.readTree(again.get(0).data()));

    Http.Response unknown = http.get("/jobs/job-nope/events");
    assertEquals(404, unknown.status());
    assertTrue(unknown.contentType().startsWith("application/problem+json"), unknown.contentType());
  }

  @Test
  void aRecordsHistoryIsEveryEventOfItsJournalInOrder() throws Exception {
    String id = http.submitJob(SPEC, Http.topics("h", 12));
    http.awaitState(id, "succeeded", Duration.ofMinutes(2));

    JsonNode ok = http.get("/jobs/" + id + "/records/3").json();
    assertEquals(3, ok.get("index").asInt());
    List<String> types = new ArrayList<>();
    long seq = 0;
    for (JsonNode e : ok.get("events")) {
      types.add(e.get("type").asText());
      assertEquals(++seq, e.get("seq").asLong(), "sequence numbers from 1, none missing");
      assertTrue(e.hasNonNull("at"), e.toString());
    }
    assertEquals("RecordStarted", types.get(0), types.toString());
    assertEquals("RecordSucceeded", types.get(types.size() - 1), types.toString());
    List<JsonNode> calls = new ArrayList<>();
    ok.get("events").forEach(e -> {
      if (e.get("type").asText().equals("CallSucceeded")) {
        calls.add(e);
      }
    });
    assertEquals(List.of("question", "answer"), calls.stream().map(c -> c.at("/call/step").asText()).toList());
    JsonNode answer = calls.get(1);
    assertTrue(answer.at("/usage/completion_tokens").asLong() > 0, answer.toString());
    assertEquals(calls.get(0).get("response").asText(), answer.at("/request/0/content").asText(),
        "the answer step was asked the question the first call answered");

    // The annotated error row names the record; its history ends with why it failed.
    JsonNode errorRow = http.get("/jobs/" + id + "/errors?annotated=true").lines().get(0);
    JsonNode failed = http.get("/jobs/" + id + "/records/" + errorRow.get("index").asLong()).json().get("events");
    JsonNode end = failed.get(failed.size() - 1);
    assertEquals("RecordFailed", end.get("type").asText(), failed.toString());
    assertEquals("validation_failed", end.get("error_type").asText());
    assertEquals("topic_ok", end.get("step").asText());

    Http.Response missing = http.get("/jobs/" + id + "/records/12");
    assertEquals(404, missing.status(), missing.body());
    assertTrue(missing.json().get("detail").asText().contains("no record 12"), missing.body());
    assertEquals(404, http.get("/jobs/job-nope/records/0").status());
  }

  @Test
  void theDashboardIsServedFromTheJar() throws Exception {
    Http.Response page = http.get("/");
    assertEquals(200, page.status());
    assertTrue(page.contentType().startsWith("text/html"), page.contentType());
    assertTrue(page.body().contains("/ui/app.js") && page.body().contains("/ui/lib/uPlot.iife.min.js"), page.body());
    assertEquals(200, http.get("/ui/app.js").status());
    assertEquals(200, http.get("/ui/app.css").status());
    Http.Response plot = http.get("/ui/lib/uPlot.iife.min.js");
    assertEquals(200, plot.status());
    assertTrue(plot.body().contains("uPlot"), "the plotting library itself");
  }
}
