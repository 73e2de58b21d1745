package io.skein.worker.entity;

import io.skein.protocol.CallId;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.Event;
import io.skein.protocol.RecordProtocol.RecordFailed;
import io.skein.protocol.RecordProtocol.RecordStarted;
import io.skein.protocol.RecordProtocol.RecordSucceeded;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A record as its journal tells it: when it started, every finished call, every failed attempt,
 * and how it ended. Rebuilt by replay; the only thing the step planner reads besides the plan and
 * the input. Mutated only by {@link #apply}, from the entity's event handler.
 */
public final class RecordState {

  private long startedAt;
  private final Map<CallId, CallSucceeded> succeeded = new LinkedHashMap<>();
  private final Map<CallId, List<CallFailed>> failures = new HashMap<>();
  private RecordSucceeded success;
  private RecordFailed failure;

  public RecordState apply(Event event) {
    if (event instanceof CallSucceeded e) {
      succeeded.put(e.call(), e);
    } else if (event instanceof CallFailed e) {
      failures.computeIfAbsent(e.call(), c -> new ArrayList<>()).add(e);
    } else if (event instanceof RecordStarted e) {
      startedAt = e.atMillis();
    } else if (event instanceof RecordSucceeded e) {
      success = e;
    } else if (event instanceof RecordFailed e) {
      failure = e;
    }
    return this;
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

  /** The answer of a step's call (one call per step so far: sample 0, turn 0). */
  public CallSucceeded result(String step) {
    return succeeded.get(CallId.of(step));
  }

  public List<CallFailed> failures(CallId call) {
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

  public long tokens() {
    long t = 0;
    for (CallSucceeded c : succeeded.values()) {
      t += c.cached() ? 0 : c.usage().total();
    }
    return t;
  }
}
