package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.step.Json;
import io.skein.worker.step.Outcome;
import io.skein.worker.step.SampleView;
import io.skein.worker.step.StepLogic;
import io.skein.worker.template.TemplateException;
import io.skein.worker.template.Templates;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A record's values as its journal gives them: values persisted when computed, steps skipped, and
 * the values of model steps, which their logic derives from their answers. {@link #settle} walks
 * the step graph as far as it goes now, computing what needs no model, and says which calls the
 * steps it reached still want. Pure: built from a plan, an input and a state, it changes none.
 */
final class RecordView {

  /** A finished step: its value (a list for n > 1; a skipped step's skip_value or JSON null), the reasoning models gave (text, a list, or null), and whether it was skipped. */
  record Resolved(JsonNode value, JsonNode reasoning, boolean skipped) {}

  /** A call a step wants now. */
  /** What a step wants now: a model call, or (with {@code call} null) a tool call its model asked for. */
  record Wanted(PipelinePlan.Step step, Outcome.Call call, Outcome.ToolUse tool) {
    Wanted(PipelinePlan.Step step, Outcome.Call call) {
      this(step, call, null);
    }
  }

  /** How far the record got: calls wanted, values computed now (to persist), steps skipped now, or a failure. */
  record Settled(List<Wanted> calls, Map<String, JsonNode> computed, List<String> skipped, boolean done,
      String errorType, String message, String failedStep) {
    boolean failed() {
      return errorType != null;
    }
  }

  private final PipelinePlan plan;
  private final RecordInput input;
  private final RecordState state;
  private final Map<String, Resolved> resolved = new LinkedHashMap<>();
  private final Map<String, Object> context;

  RecordView(PipelinePlan plan, RecordInput input, RecordState state) {
    this.plan = plan;
    this.input = input;
    this.state = state;
    this.context = new HashMap<>(input.values());
    context.putIfAbsent(PipelinePlan.INDEX, input.index());
    for (PipelinePlan.Step s : plan.steps()) {
      if (state.isSkipped(s.name())) {
        resolve(s.name(), new Resolved(s.skipValue(), null, true));
      } else if (state.hasValue(s.name())) {
        resolve(s.name(), new Resolved(state.value(s.name()), null, false));
      } else if (state.memo(s.name()) != null) {
        resolve(s.name(), state.memo(s.name()));
      }
    }
  }

  PipelinePlan plan() {
    return plan;
  }

  RecordInput input() {
    return input;
  }

  /** What templates see now: fields, {@code index}, and every finished step's value. */
  Map<String, Object> context() {
    return Collections.unmodifiableMap(context);
  }

  Resolved resolved(String step) {
    return resolved.get(step);
  }

  private void resolve(String step, Resolved r) {
    resolved.put(step, r);
    context.put(step, r.value() == null || r.value().isNull() ? null : Json.plain(r.value()));
  }

  /** Walks the graph as far as the record's state allows, computing what needs no model. */
  Settled settle() {
    List<Wanted> calls = new ArrayList<>();
    Map<String, JsonNode> computed = new LinkedHashMap<>();
    List<String> skipped = new ArrayList<>();
    boolean progress = true;
    while (progress) {
      progress = false;
      calls.clear();
      for (PipelinePlan.Step step : plan.steps()) {
        if (resolved.containsKey(step.name()) || !step.dependsOn().stream().allMatch(resolved::containsKey)) {
          continue;
        }
        try {
          if (skips(step)) {
            resolve(step.name(), new Resolved(step.skipValue(), null, true));
            skipped.add(step.name());
            progress = true;
            continue;
          }
          List<Outcome.Value> values = new ArrayList<>();
          for (int s = 0; s < step.spec().n(); s++) {
            Outcome o = step.logic().next(sample(step, s));
            if (o instanceof Outcome.Failed f) {
              return new Settled(List.of(), computed, skipped, false, f.errorType(), step.name() + ": " + f.message(), step.name());
            } else if (o instanceof Outcome.Calls c) {
              c.calls().forEach(call -> calls.add(new Wanted(step, call)));
            } else if (o instanceof Outcome.Tools t) {
              t.uses().forEach(use -> calls.add(new Wanted(step, null, use)));
            } else {
              values.add((Outcome.Value) o);
            }
          }
          if (values.size() == step.spec().n()) {
            Resolved r = combine(step, values);
            resolve(step.name(), r);
            if (step.logic().local()) {
              computed.put(step.name(), r.value());
            } else {
              state.memo(step.name(), r);
            }
            progress = true;
          }
        } catch (TemplateException e) {
          return new Settled(List.of(), computed, skipped, false, StepPlanner.TEMPLATE_ERROR,
              "steps." + step.name() + ": " + e.getMessage(), step.name());
        } catch (RuntimeException e) {
          // A kind that throws (a plugin's, say) is a bug in the kind: this record fails, the node goes on.
          return new Settled(List.of(), computed, skipped, false, RecordWorker.STEP_ERROR,
              "steps." + step.name() + ": the " + step.spec().kind() + " step failed: " + e, step.name());
        }
      }
    }
    return new Settled(List.copyOf(calls), computed, skipped, resolved.size() == plan.steps().size(), null, null, null);
  }

  /** A step is skipped when its condition is false, or, without one, when a step it reads was skipped. */
  private boolean skips(PipelinePlan.Step step) {
    String when = step.spec().when();
    if (when == null) {
      return step.dependsOn().stream().anyMatch(d -> resolved.get(d).skipped());
    }
    return !"1".equals(Templates.get().render("{% if " + when + " %}1{% endif %}", context));
  }

  private static Resolved combine(PipelinePlan.Step step, List<Outcome.Value> values) {
    if (step.spec().n() == 1) {
      Outcome.Value v = values.get(0);
      return new Resolved(v.value(), v.reasoning() == null ? null : TextNode.valueOf(v.reasoning()), false);
    }
    ArrayNode list = Json.NODES.arrayNode();
    ArrayNode reasoning = Json.NODES.arrayNode();
    boolean anyReasoning = false;
    for (Outcome.Value v : values) {
      list.add(v.value());
      reasoning.add(v.reasoning());
      anyReasoning |= v.reasoning() != null;
    }
    return new Resolved(list, anyReasoning ? reasoning : null, false);
  }

  SampleView sample(PipelinePlan.Step step, int sample) {
    return new Sample(step, sample);
  }

  SampleView sample(CallId id) {
    return new Sample(plan.step(id.step()), id.sample());
  }

  private final class Sample implements SampleView {
    private final PipelinePlan.Step step;
    private final int sample;

    Sample(PipelinePlan.Step step, int sample) {
      this.step = step;
      this.sample = sample;
    }

    @Override
    public String step() {
      return step.name();
    }

    @Override
    public int sample() {
      return sample;
    }

    @Override
    public long index() {
      return input.index();
    }

    @Override
    public long seed() {
      return CallRequests.seed(plan.spec().seed(), input.index(), new CallId(step.name(), sample, 0));
    }

    @Override
    public Map<String, Object> context() {
      return RecordView.this.context();
    }

    @Override
    public JsonNode value(String name) {
      Resolved r = resolved.get(name);
      return r == null || r.value() == null || (r.skipped() && r.value().isNull()) ? null : r.value();
    }

    @Override
    public List<CallSucceeded> answers() {
      return state.answers(step.name(), sample);
    }

    @Override
    public io.skein.protocol.RecordProtocol.ToolCalled toolResult(CallId call, int index) {
      return state.toolResult(call, index);
    }

    @Override
    public List<ChatMessage> conversationOf(String name) {
      PipelinePlan.Step other = plan.step(name);
      return other.logic().conversation(new Sample(other, 0));
    }

    @Override
    public List<StepLogic> checks() {
      return step.checks();
    }
  }
}
