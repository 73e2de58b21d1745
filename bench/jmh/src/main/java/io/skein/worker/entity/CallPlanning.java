package io.skein.worker.entity;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.RecordStarted;
import io.skein.protocol.Usage;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.gateway.ModelRequest;
import io.skein.worker.gateway.Provider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a record does between two calls of {@code bench}'s plain pipeline, in Skein's own code: plan
 * the next call from the journal's state (render its prompt, settle what is done) and build its
 * request (the body, its fingerprint and cache key: two SHA-256s). The record has its first answer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CallPlanning {

  /** bench's plain pipeline, as BenchCommand runs it. */
  static final String SPEC = """
      name: bench
      seed: 1
      models:
        m: {model: sim-small, max_tokens: 60}
      input: {num_records: 1000}
      steps:
        - {name: question, model: m, prompt: "Write question {{ index }}."}
        - {name: answer, model: m, prompt: "{{ question }}"}
        - {name: verdict, model: m, prompt: "Judge this answer: {{ answer }}"}
      """;
  /** About 60 tokens, as the simulator answers with max_tokens 60. */
  static final String ANSWER = "What is the most common reason a sourdough starter stops rising after a week of daily feeding, and how"
      + " would you tell a temperature problem from a flour problem by looking at it, smelling it and timing its rise?";
  private static final long NOW = 1_000_000;

  private PipelinePlan plan;
  private RecordInput input;
  private RecordStarted started;
  private CallSucceeded answered;
  private StepPlanner.PlannedCall next;
  private Provider provider;

  @Setup
  public void setup() throws Exception {
    plan = PipelinePlan.compile(SpecParser.parse(SPEC), List.of());
    input = RecordInput.of(7, new ObjectMapper().readTree("{}"));
    started = new RecordStarted(1);
    RecordState state = new RecordState().apply(started);
    StepPlanner.PlannedCall first = ((StepPlanner.Proceed) StepPlanner.next(plan, input, state, Set.of(), Map.of(), NOW, 0)).calls().get(0);
    answered = new CallSucceeded(first.id(), first.attempt(), "fp", "node", "sim-small", first.newMessages(), ANSWER, "stop",
        new Usage(20, 60), 5, NOW, false);
    next = ((StepPlanner.Proceed) planAfterAnAnswer()).calls().get(0);
    provider = new Provider("sim-small", "http://127.0.0.1:1/v1", null, "sim-small", 256, Duration.ofSeconds(60));
  }

  /** The record's state from its journal (two events), then its next call planned: the prompt rendered, the conversation made. */
  @Benchmark
  public StepPlanner.Decision planAfterAnAnswer() {
    RecordState state = new RecordState().apply(started).apply(answered);
    return StepPlanner.next(plan, input, state, Set.of(), Map.of(), NOW, 0);
  }

  /** The planned call's request: its JSON body, fingerprint and cache key. */
  @Benchmark
  public ModelRequest buildRequest() {
    return CallRequests.build("job-1/7", 7, 1, next, provider, true);
  }
}
