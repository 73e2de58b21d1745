package io.skein.coordinator.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.job.JobService;
import io.skein.protocol.JobProtocol.JobState;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code GET /jobs/{id}/events}: a job's status as Server-Sent Events, for the dashboard and the
 * CLI's {@code watch}. Every node answers for every job: the status is read from the jobs table,
 * which the job's coordinator (wherever it runs) brings up to date about once a second. An event
 * {@code status} (the JSON of {@code GET /jobs/{id}}) is sent at once and then whenever the status
 * changes; the stream ends after the status that says the job has ended, or with an event
 * {@code gone} if the job is deleted meanwhile. A heartbeat comment keeps a quiet stream open
 * through proxies and the server's idle timeout.
 */
final class JobEvents {

  private static final Duration HEARTBEAT = Duration.ofSeconds(15);

  private JobEvents() {}

  /** What a failed read of the status becomes: nothing to send. */
  private static final Optional<ObjectNode> NO_NEWS = Optional.of(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());

  /** An event to send, and whether it is the stream's last. */
  private record Update(ServerSentEvent event, boolean last) {}

  /**
   * The events of one request (materialize it once): {@code first} is the status already read (the
   * request's 404 was decided on it); the table is read again every {@code every}.
   */
  static Source<ServerSentEvent, NotUsed> of(JobService jobs, String id, ObjectNode first, Duration every) {
    AtomicReference<String> sent = new AtomicReference<>();
    Source<Optional<ObjectNode>, NotUsed> polled = Source.tick(every, every, id)
        .mapMaterializedValue(tick -> NotUsed.getInstance())
        .mapAsync(1, job -> jobs.status(job).toCompletableFuture()
            // A failed read (the database away for a moment) is no news: the next tick reads again.
            .exceptionally(e -> NO_NEWS));
    return Source.single(Optional.of(first)).concat(polled)
        .filter(status -> status != NO_NEWS && (status.isEmpty() || !status.get().toString().equals(sent.get())))
        .map(status -> {
          if (status.isEmpty()) {
            return new Update(ServerSentEvent.create("{\"id\":\"" + id + "\"}", "gone"), true);
          }
          sent.set(status.get().toString());
          return new Update(ServerSentEvent.create(sent.get(), "status"), ended(status.get()));
        })
        .takeWhile(update -> !update.last(), true)
        .map(Update::event)
        .keepAlive(HEARTBEAT, ServerSentEvent::heartbeat);
  }

  private static boolean ended(ObjectNode status) {
    String state = status.path("state").asText();
    return Arrays.stream(JobState.values()).anyMatch(s -> s.isTerminal() && s.wireName().equals(state));
  }
}
