package io.skein.worker.gateway;

import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.Usage;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a node does with an answer in Skein's own code: read the provider's JSON into an outcome, and
 * serialize the event that journals it (Pekko's Jackson CBOR serializer, as the journal writes it).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AnswerReading {

  private static final String TEXT = "What is the most common reason a sourdough starter stops rising after a week of daily feeding, and"
      + " how would you tell a temperature problem from a flour problem by looking at it, smelling it and timing its rise?";
  /** An OpenAI chat completion as the simulator (and OpenAI) send it. */
  private static final String BODY = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1765000000,\"model\":\"sim-small\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + TEXT + "\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":60,\"total_tokens\":80}}";

  private ActorSystem<Void> system;
  private Serialization serialization;
  private CallSucceeded event;

  @Setup
  public void setup() {
    system = ActorSystem.create(Behaviors.empty(), "jmh");
    serialization = SerializationExtension.get(system.classicSystem());
    event = new CallSucceeded(CallId.of("answer"), 1, "3f0c9a1b2c3d4e5f3f0c9a1b2c3d4e5f3f0c9a1b2c3d4e5f3f0c9a1b2c3d4e5f", "skein@10.0.0.7:2551",
        "sim-small", List.of(ChatMessage.user("Write question 7."), ChatMessage.assistant(TEXT), ChatMessage.user(TEXT)), TEXT, "stop",
        new Usage(20, 60), 5, 1_765_000_000_000L, false);
  }

  @TearDown
  public void stop() {
    system.terminate();
  }

  @Benchmark
  public ModelOutcome parseAnswer() {
    return OpenAiHttpClient.parse(BODY, 5);
  }

  @Benchmark
  public byte[] serializeEvent() {
    return serialization.serialize(event).get();
  }

  @Benchmark
  public Object roundTripEvent() throws Exception {
    var serializer = (org.apache.pekko.serialization.SerializerWithStringManifest) serialization.findSerializerFor(event);
    return serializer.fromBinary(serializer.toBinary(event), serializer.manifest(event));
  }
}
