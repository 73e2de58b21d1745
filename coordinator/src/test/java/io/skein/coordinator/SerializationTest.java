package io.skein.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.skein.coordinator.job.CoordinatorState;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.JobProtocol;
import io.skein.protocol.RecordProtocol;
import io.skein.protocol.Usage;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every message that crosses a node and every event that reaches the journal round-trips through Jackson CBOR. */
class SerializationTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static void roundTrip(Object message) {
    testKit.serializationTestKit().verifySerialization(message, true);
    var serializer = SerializationExtension.get(testKit.system().classicSystem()).findSerializerFor(message);
    assertEquals("org.apache.pekko.serialization.jackson.JacksonCborSerializer", serializer.getClass().getName(),
        message.getClass() + " must not fall back to another serializer");
  }

  @Test
  void recordProtocol() {
    TestProbe<RecordProtocol.RecordReport> probe = testKit.createTestProbe();
    CallId call = new CallId("answer", 0, 1);
    List<ChatMessage> request = List.of(ChatMessage.system("s"), ChatMessage.user("u"));
    roundTrip(new RecordProtocol.Ensure(probe.getRef()));
    roundTrip(new RecordProtocol.Ensure(probe.getRef(), 1234));
    roundTrip(new RecordProtocol.Ensure(probe.getRef(), 1234, 5678));
    roundTrip(new RecordProtocol.RecordRetried(5678));
    roundTrip(RecordProtocol.Stop.INSTANCE);
    roundTrip(new RecordProtocol.RecordOutcome("job-1", 7, true, 3, 120));
    roundTrip(new io.skein.protocol.Usage(2006, 300, 1920));
    roundTrip(new io.skein.protocol.Usage(20, 30));
    roundTrip(new RecordProtocol.RecordOutcome("job-1", 8, false, 3, 120, 4_500_000L, "validation_failed"));
    roundTrip(new RecordProtocol.RecordBlocked("job-1", 8, "writer", "answer", "unauthorized", "HTTP 401", 77));
    roundTrip(new RecordProtocol.RecordProgress("job-1", 9, 2, 80, "model `m` is unavailable (HTTP 503) since 2026-12-02T04:00:00Z"));
    roundTrip(new RecordProtocol.RecordProgress("job-1", 9, 2, 80, null));
    roundTrip(new RecordProtocol.RecordProgress("job-1", 9, 2, 80, null, 1_250_000L));
    roundTrip(new RecordProtocol.RecordStarted(1L));
    roundTrip(new RecordProtocol.CallSucceeded(call, 2, "fp", "skein@127.0.0.1:2551", "sim-small", request, "text", "stop", new Usage(3, 4), 12, 99, true));
    roundTrip(new RecordProtocol.CallSucceeded(call, 1, "fp", "n", "sim-small", request, "{\"a\": 1}", "stop", Usage.NONE, 1, 2, false,
        new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("ok", true).set("value",
            new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("a", 1))));
    roundTrip(new RecordProtocol.ValuesComputed(java.util.Map.of("price", new com.fasterxml.jackson.databind.node.IntNode(42),
        "customer", new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("age", 70)), List.of("followup"), 5));
    roundTrip(new RecordProtocol.CallFailed(call, 1, "fp", "skein@127.0.0.1:2551", "rate_limited", true, 429, "slow down", 1000, 5, 98));
    List<ChatMessage> toolRound = List.of(ChatMessage.assistant("", List.of(new io.skein.protocol.ToolCall("c1", "add", "{\"a\": 1}"))),
        ChatMessage.tool("c1", "1"));
    roundTrip(new RecordProtocol.CallSucceeded(call, 1, "fp", "n", "sim-small", toolRound, "", "tool_calls", Usage.NONE, 1, 2, false, null,
        List.of(new io.skein.protocol.ToolCall("c2", "lookup", "{\"key\": \"k\"}"))));
    roundTrip(new RecordProtocol.ToolCalled(call, 0, "c2", "lookup", "calc", "the entry for k is amber", false, "n", 4, 5));
    // The server that answered, of a model's several.
    roundTrip(new RecordProtocol.CallSucceeded(call, 1, "fp", "n", "sim-small", request, "text", "stop", Usage.NONE, 1, 2, false, null,
        List.of(), "vllm-a"));
    roundTrip(new RecordProtocol.CallFailed(call, 1, "fp", "n", "server_error", true, 502, "bad gateway", 0, 5, 98, "vllm-b"));
    roundTrip(new RecordProtocol.RecordSucceeded(100));
    roundTrip(new RecordProtocol.RecordFailed("unauthorized", "HTTP 401", "answer", 101));
  }

  @Test
  void jobProtocol() {
    TestProbe<org.apache.pekko.pattern.StatusReply<org.apache.pekko.Done>> probe = testKit.createTestProbe();
    roundTrip(new JobProtocol.Start(probe.getRef()));
    roundTrip(new JobProtocol.Cancel(probe.getRef()));
    roundTrip(new JobProtocol.Pause(probe.getRef()));
    roundTrip(new JobProtocol.Resume(probe.getRef()));
    roundTrip(new JobProtocol.RetryFailed(probe.getRef(), 11));
    roundTrip(new JobProtocol.FailedRetried(11));
    roundTrip(new JobProtocol.JobPaused("model `m` refused 3 records", 7));
    roundTrip(new JobProtocol.JobResumed(8));
    roundTrip(new JobProtocol.JobResumed(8, 50_000_000_000L));
    roundTrip(new JobProtocol.JobStarted(2000, 1000, 5, 0, new JobProtocol.Limits(25_000_000_000L, 0.5, 100)));
    roundTrip(new JobProtocol.JobStarted(2000, 1000, 5));
    roundTrip(new JobProtocol.JobStarted(3000, 1000, 5, 1000));
    roundTrip(new JobProtocol.Dispatched(1000));
    roundTrip(new JobProtocol.Progress(500));
    roundTrip(new JobProtocol.JobEnded(JobProtocol.JobState.SUCCEEDED, null, 9));
    roundTrip(new CoordinatorState(2000, 1000, 1000, 500, null, null, 0, 0));
    roundTrip(new CoordinatorState(3000, 1000, 1000, 500, null, null, 0, 1000));
    roundTrip(new CoordinatorState(2000, 1000, 1000, 500, null, "paused by request", 0, 0));
    roundTrip(new CoordinatorState(2000, 1000, 1000, 500, null, null, 0, 0, new io.skein.protocol.JobProtocol.Limits(25_000_000_000L, 0.5, 100)));
    roundTrip(new CoordinatorState(2000, 1000, 2000, 2000, JobProtocol.JobState.CANCELLED, null, 99, 0));
    roundTrip(new CoordinatorState(2000, 1000, 2000, 2000, null, null, 11, 0, JobProtocol.Limits.NONE, 11));
  }

  /** A journal written before `target` (JobStarted and snapshots without it) reads as a job without one. */
  @Test
  void eventsAndSnapshotsFromBeforeTargetsReadAsJobsWithoutOne() throws Exception {
    var serialization = SerializationExtension.get(testKit.system().classicSystem());
    var cbor = new com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper();
    var started = new JobProtocol.JobStarted(2000, 64, 5, 1000);
    var serializer = (org.apache.pekko.serialization.SerializerWithStringManifest) serialization.findSerializerFor(started);
    byte[] old = cbor.writeValueAsBytes(java.util.Map.of("total", 2000, "window", 64, "atMillis", 5));
    assertEquals(new JobProtocol.JobStarted(2000, 64, 5, 0), serializer.fromBinary(old, serializer.manifest(started)));
    var state = new CoordinatorState(2000, 64, 100, 50, null, null, 0, 1000);
    byte[] oldState = cbor.writeValueAsBytes(java.util.Map.of("total", 2000, "window", 64, "upTo", 100, "low", 50, "resumedAt", 0));
    assertEquals(new CoordinatorState(2000, 64, 100, 50, null, null, 0, 0), serializer.fromBinary(oldState, serializer.manifest(state)));
  }
}
