package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.RecordStarted;
import io.skein.protocol.RecordProtocol.ValuesComputed;
import io.skein.protocol.Usage;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.plan.PipelinePlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Runs one record through the planner, without actors: values are applied as the entity persists
 * them, and every planned call is answered by {@code model} and read by its step's kind, as the
 * entity does. What tests of step kinds need: the calls sent, the events, the row.
 */
final class RecordRun {

  private static final ObjectMapper JSON = new ObjectMapper();

  final PipelinePlan plan;
  final RecordInput input;
  final RecordState state = new RecordState().apply(new RecordStarted(1));
  final List<StepPlanner.PlannedCall> sent = new ArrayList<>();
  StepPlanner.Decision last;

  RecordRun(String spec, String inputJson, long index) {
    try {
      JsonNode raw = JSON.readTree(inputJson);
      List<String> fields = new ArrayList<>();
      raw.fieldNames().forEachRemaining(fields::add);
      this.plan = PipelinePlan.compile(SpecParser.parse(spec), fields);
      this.input = RecordInput.of(index, raw);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Plans, answers and applies until the record finishes, fails or is blocked; returns the last decision. */
  StepPlanner.Decision run(Function<StepPlanner.PlannedCall, String> model) {
    for (int round = 0; round < 200; round++) {
      last = StepPlanner.next(plan, input, state, Set.of(), Map.of(), Long.MAX_VALUE / 4, 0);
      if (!(last instanceof StepPlanner.Proceed p)) {
        return last;
      }
      if (p.computesValues()) {
        state.apply(new ValuesComputed(p.computed(), p.skipped(), 2));
      }
      for (StepPlanner.PlannedCall call : p.calls()) {
        sent.add(call);
        answer(call, model.apply(call));
      }
      if (!p.computesValues() && p.calls().isEmpty()) {
        throw new AssertionError("stuck: " + p);
      }
    }
    throw new AssertionError("no end after 200 rounds");
  }

  void answer(StepPlanner.PlannedCall call, String text) {
    JsonNode result = Rows.interpret(context(), state, call.id(), text);
    state.apply(new CallSucceeded(call.id(), call.attempt(), "fp", "node", call.model().model(), call.newMessages(), text, "stop",
        new Usage(1, 1), 1, 3, false, result));
  }

  RecordContext context() {
    return new RecordContext(plan, input);
  }

  JsonNode row() {
    return Rows.output(context(), state);
  }

  /** The calls sent for one step, in order. */
  List<StepPlanner.PlannedCall> sentFor(String step) {
    return sent.stream().filter(c -> c.id().step().equals(step)).toList();
  }
}
