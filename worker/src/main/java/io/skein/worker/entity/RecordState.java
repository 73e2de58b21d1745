package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.protocol.CallId;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.Event;
import io.skein.protocol.RecordProtocol.RecordFailed;
import io.skein.protocol.RecordProtocol.RecordRetried;
import io.skein.protocol.RecordProtocol.RecordStarted;
import io.skein.protocol.RecordProtocol.RecordSucceeded;
import io.skein.protocol.RecordProtocol.ToolCalled;
import io.skein.protocol.RecordProtocol.ValuesComputed;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A record as its journal tells it: when it started, every finished call, every failed attempt,
 * the values computed without a model and the steps skipped, and how it ended. Rebuilt by replay;
 * the only thing the step planner reads besides the plan and the input. Mutated only by
 * {@link #apply}, from the entity's event handler (and a memo of finished model steps' values,
 * which the planner derives from the calls alone).
 */
public final class RecordState {

  private long startedAt;
  private final Map<CallId, CallSucceeded> succeeded = new LinkedHashMap<>();
  private final Map<CallId, List<CallFailed>> failures = new HashMap<>();
  private final Map<String, JsonNode> values = new HashMap<>();
  private final Set<String> skipped = new HashSet<>();
  /** Answers by step and sample, in turn order. */
  private final Map<String, Map<Integer, List<CallSucceeded>>> answers = new HashMap<>();
  private final Map<String, Object> memo = new HashMap<>();
  /** Tool calls run, by the model call that asked for them and their index in its answer. */
  private final Map<CallId, Map<Integer, ToolCalled>> tools = new HashMap<>();
  private RecordSucceeded success;
  private RecordFailed failure;
  /** When its job last retried it (0: never), and how many of each call's failures came before: they no longer count. */
  private long retriedAt;
  private final Map<CallId, Integer> forgiven = new HashMap<>();

  public RecordState apply(Event event) {
    if (event instanceof CallSucceeded e) {
      if (succeeded.put(e.call(), e) == null) {
        List<CallSucceeded> turns = answers.computeIfAbsent(e.call().step(), s -> new HashMap<>())
            .computeIfAbsent(e.call().sample(), s -> new ArrayList<>());
        turns.add(e);
        turns.sort(Comparator.comparingInt(c -> c.call().turn()));
      }
    } else if (event instanceof ToolCalled e) {
      tools.computeIfAbsent(e.call(), c -> new HashMap<>()).putIfAbsent(e.index(), e);
    } else if (event instanceof ValuesComputed e) {
      values.putAll(e.values());
      skipped.addAll(e.skipped());
    } else if (event instanceof CallFailed e) {
      failures.computeIfAbsent(e.call(), c -> new ArrayList<>()).add(e);
    } else if (event instanceof RecordStarted e) {
      startedAt = e.atMillis();
    } else if (event instanceof RecordSucceeded e) {
      success = e;
    } else if (event instanceof RecordFailed e) {
      failure = e;
    } else if (event instanceof RecordRetried e) {
      failure = null;
      retriedAt = e.atMillis();
      failures.forEach((call, list) -> forgiven.put(call, list.size()));
    }
    return this;
  }

  /**
   * This state with one more event, leaving this one as it is: what the record will be once the
   * event is journaled, so its next step can be planned before the write (and, when that step is
   * the end, journaled with it in one write).
   */
  RecordState with(Event event) {
    RecordState copy = new RecordState();
    copy.startedAt = startedAt;
    copy.succeeded.putAll(succeeded);
    failures.forEach((call, list) -> copy.failures.put(call, new ArrayList<>(list)));
    copy.values.putAll(values);
    copy.skipped.addAll(skipped);
    answers.forEach((step, samples) -> {
      Map<Integer, List<CallSucceeded>> bySample = new HashMap<>();
      samples.forEach((sample, turns) -> bySample.put(sample, new ArrayList<>(turns)));
      copy.answers.put(step, bySample);
    });
    copy.memo.putAll(memo); // of finished steps only, which no later event changes
    tools.forEach((call, byIndex) -> copy.tools.put(call, new HashMap<>(byIndex)));
    copy.success = success;
    copy.failure = failure;
    copy.retriedAt = retriedAt;
    copy.forgiven.putAll(forgiven);
    return copy.apply(event);
  }

  public boolean isStarted() {
    return startedAt > 0;
  }

  public long startedAt() {
    return startedAt;
  }

  public boolean isTerminal() {
    return success != null || failure != null;
  }

  public boolean isSucceeded() {
    return success != null;
  }

  public RecordFailed failure() {
    return failure;
  }

  public long finishedAt() {
    return success != null ? success.atMillis() : failure != null ? failure.atMillis() : 0;
  }

  public CallSucceeded result(CallId call) {
    return succeeded.get(call);
  }

  /** The answered calls of one sample of a step, in turn order. */
  public List<CallSucceeded> answers(String step, int sample) {
    return answers.getOrDefault(step, Map.of()).getOrDefault(sample, List.of());
  }

  /** The tool call {@code index} of the answer to {@code call}, once run; else null. */
  public ToolCalled toolResult(CallId call, int index) {
    return tools.getOrDefault(call, Map.of()).get(index);
  }

  /** Every tool call run, in no particular order. */
  public List<ToolCalled> toolCalls() {
    List<ToolCalled> out = new ArrayList<>();
    tools.values().forEach(m -> out.addAll(m.values()));
    return out;
  }

  /** A value computed without a model and persisted, or null. */
  public JsonNode value(String step) {
    return values.get(step);
  }

  public boolean hasValue(String step) {
    return values.containsKey(step);
  }

  public boolean isSkipped(String step) {
    return skipped.contains(step);
  }

  /** A memo the planner keeps of what it derived from this state's events; it never changes what the events say. */
  @SuppressWarnings("unchecked")
  <T> T memo(String key) {
    return (T) memo.get(key);
  }

  void memo(String key, Object value) {
    memo.put(key, value);
  }

  /** When its job last retried this record after it had failed (0: never). */
  public long retriedAt() {
    return retriedAt;
  }

  /** The call's failed attempts since the record was last retried: what its retry budget counts. */
  public List<CallFailed> failures(CallId call) {
    List<CallFailed> all = failures.getOrDefault(call, List.of());
    int before = forgiven.getOrDefault(call, 0);
    return before == 0 ? all : all.subList(before, all.size());
  }

  /** Every failed attempt of the call, retried or not: what the record's history and attempt numbers count. */
  public List<CallFailed> failedAttempts(CallId call) {
    return failures.getOrDefault(call, List.of());
  }

  public Map<CallId, CallSucceeded> succeeded() {
    return Collections.unmodifiableMap(succeeded);
  }

  public Map<CallId, List<CallFailed>> allFailures() {
    return Collections.unmodifiableMap(failures);
  }

  /** Attempts sent and answered (successes plus failures, not answers from the cache): what the record cost in calls. */
  public int calls() {
    int n = 0;
    for (CallSucceeded c : succeeded.values()) {
      n += c.cached() ? 0 : 1;
    }
    for (List<CallFailed> f : failures.values()) {
      n += f.size();
    }
    return n;
  }

  /** What its answered calls cost at {@code prices}, in billionths of a dollar (answers from the cache cost nothing). */
  public long costNanos(io.skein.worker.gateway.Prices prices) {
    long n = 0;
    for (CallSucceeded c : succeeded.values()) {
      n += c.cached() ? 0 : prices.nanos(c.model(), c.usage());
    }
    return n;
  }

  public long tokens() {
    long t = 0;
    for (CallSucceeded c : succeeded.values()) {
      t += c.cached() ? 0 : c.usage().total();
    }
    return t;
  }
}
