package io.skein.coordinator.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * {@code GET /jobs/{id}/records/{index}}: one record's journal, every event in the order it was
 * written — when it started, the values computed without a model, each call's messages, answer,
 * usage, latency and node, each failed attempt, each tool call, and how it ended. Read from the
 * journal itself (Pekko Persistence Query on the JDBC journal), so it is the history a replay
 * would see, on any node. Events hold no secrets (see the architecture's invariants).
 */
final class RecordHistory {

  private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
      .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);

  private final JdbcReadJournal journal;
  private final Materializer materializer;

  RecordHistory(ActorSystem<?> system) {
    this.journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    this.materializer = Materializer.matFromSystem(system);
  }

  /** The record's events as JSON objects ({@code seq}, {@code type}, {@code at}, then the event's fields); empty if it never started. */
  CompletionStage<ArrayNode> events(String jobId, long index) {
    return journal.currentEventsByPersistenceId("Record|" + jobId + "/" + index, 0L, Long.MAX_VALUE)
        .map(RecordHistory::json)
        .runWith(Sink.seq(), materializer)
        .thenApply(RecordHistory::array);
  }

  private static ObjectNode json(EventEnvelope envelope) {
    Object event = envelope.event();
    ObjectNode node = JSON.createObjectNode();
    node.put("seq", envelope.sequenceNr());
    node.put("type", event.getClass().getSimpleName());
    ObjectNode fields = JSON.valueToTree(event);
    if (fields.has("at_millis")) {
      node.put("at", Instant.ofEpochMilli(fields.remove("at_millis").asLong()).toString());
    }
    node.setAll(fields);
    return node;
  }

  private static ArrayNode array(List<ObjectNode> events) {
    ArrayNode array = JSON.createArrayNode();
    array.addAll(events);
    return array;
  }
}
