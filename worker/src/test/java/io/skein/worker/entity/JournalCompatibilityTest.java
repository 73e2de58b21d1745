package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.protocol.RecordProtocol;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.plan.PipelinePlan;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A journal written by Skein before step kinds (see {@code journal-v0/README.md}) replays with
 * today's code: every event deserializes, a finished record yields the row that version wrote, and
 * a record cut off after any of its events continues with exactly the calls that had not answered,
 * as the attempt it had reached.
 */
class JournalCompatibilityTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = JournalCompatibilityTest.class.getResourceAsStream("/journal-v0/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static Map<Long, List<RecordProtocol.Event>> journal() throws IOException {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    Map<Long, List<RecordProtocol.Event>> byRecord = new LinkedHashMap<>();
    for (String line : resource("journal.jsonl").split("\n")) {
      JsonNode row = JSON.readTree(line);
      String pid = row.get("persistence_id").asText();
      long index = Long.parseLong(pid.substring(pid.lastIndexOf('/') + 1));
      Object event = serialization.deserialize(Base64.getDecoder().decode(row.get("payload").asText()),
          row.get("ser_id").asInt(), row.get("manifest").asText()).get();
      byRecord.computeIfAbsent(index, i -> new ArrayList<>()).add((RecordProtocol.Event) event);
    }
    return byRecord;
  }

  private static List<RecordInput> inputs() throws IOException {
    List<RecordInput> inputs = new ArrayList<>();
    for (String line : resource("writer-editor.jsonl").split("\n")) {
      inputs.add(RecordInput.of(inputs.size(), JSON.readTree(line)));
    }
    return inputs;
  }

  private static PipelinePlan plan() throws IOException {
    return PipelinePlan.compile(SpecParser.parse(resource("writer-editor.yaml")), List.of("id", "subject", "kind"));
  }

  @Test
  void finishedRecordsYieldTheRowsTheyWroteThen() throws IOException {
    PipelinePlan plan = plan();
    List<RecordInput> inputs = inputs();
    Map<Long, List<RecordProtocol.Event>> journal = journal();
    String[] rows = resource("rows.jsonl").split("\n");
    assertEquals(10, journal.size());
    long failures = journal.values().stream().flatMap(List::stream).filter(e -> e instanceof CallFailed).count();
    assertTrue(failures > 0, "the journal holds failed attempts too");
    for (var entry : journal.entrySet()) {
      RecordState state = new RecordState();
      entry.getValue().forEach(state::apply);
      assertTrue(state.isSucceeded());
      RecordInput input = inputs.get(entry.getKey().intValue());
      assertInstanceOf(StepPlanner.Finish.class, StepPlanner.next(plan, input, state, Set.of(), Map.of(), Long.MAX_VALUE / 2, 0));
      JsonNode then = JSON.readTree(rows[entry.getKey().intValue()]);
      assertEquals(then, Rows.output(new RecordContext(plan, input), state), "record " + entry.getKey());
    }
  }

  @Test
  void aRecordCutOffAfterAnyEventContinuesWithTheCallsThatHadNotAnswered() throws IOException {
    PipelinePlan plan = plan();
    List<RecordInput> inputs = inputs();
    int cuts = 0;
    for (var entry : journal().entrySet()) {
      List<RecordProtocol.Event> events = entry.getValue();
      RecordInput input = inputs.get(entry.getKey().intValue());
      for (int cut = 1; cut < events.size() - 1; cut++) {
        RecordState state = new RecordState();
        events.subList(0, cut).forEach(state::apply);
        var decision = assertInstanceOf(StepPlanner.Proceed.class,
            StepPlanner.next(plan, input, state, Set.of(), Map.of(), Long.MAX_VALUE / 2, 0), "record " + entry.getKey() + " cut " + cut);
        for (StepPlanner.PlannedCall call : decision.calls()) {
          CallSucceeded answered = events.subList(cut, events.size()).stream()
              .filter(e -> e instanceof CallSucceeded s && s.call().equals(call.id())).map(e -> (CallSucceeded) e)
              .findFirst().orElseThrow(() -> new AssertionError("planned " + call.id() + ", which that version never made"));
          assertEquals(answered.request(), call.newMessages(), "the same question as then: " + call.id());
          int nextAttempt = events.subList(cut, events.size()).stream()
              .filter(e -> e instanceof CallFailed f && f.call().equals(call.id())).map(e -> ((CallFailed) e).attempt())
              .findFirst().orElse(answered.attempt());
          assertEquals(nextAttempt, call.attempt(), "the attempt it had reached: " + call.id());
        }
        assertEquals(false, decision.calls().isEmpty(), "record " + entry.getKey() + " cut " + cut + " goes on");
        cuts++;
      }
    }
    assertTrue(cuts > 50, "cut at " + cuts + " places");
  }
}
