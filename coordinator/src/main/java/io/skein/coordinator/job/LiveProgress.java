package io.skein.coordinator.job;

import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.protocol.RecordProtocol.RecordProgress;
import java.util.HashMap;
import java.util.Map;

/**
 * What the records of a job still running have journaled, as they last reported it: a job's
 * published counts are the ledger's (records that ended) plus these, so {@code calls} and
 * {@code tokens} move while records work, and what they wait for (a provider unavailable or
 * rate-limiting) is said. Reports are totals per record: a lost or repeated one corrects itself with
 * the next. A record's entry goes when its row lands (the ledger counts it from then on).
 */
final class LiveProgress {

  private final Map<Long, RecordProgress> running = new HashMap<>();

  void report(RecordProgress progress) {
    running.put(progress.index(), progress);
  }

  void ended(long index) {
    running.remove(index);
  }

  void clear() {
    running.clear();
  }

  /** The ledger's counts with the calls, tokens and cost of records still running. */
  Counts counts(Counts ledger) {
    long calls = 0;
    long tokens = 0;
    long cost = 0;
    for (RecordProgress p : running.values()) {
      calls += p.calls();
      tokens += p.tokens();
      cost += p.costNanos();
    }
    return new Counts(ledger.succeeded(), ledger.failed(), ledger.calls() + calls, ledger.tokens() + tokens, ledger.costNanos() + cost);
  }

  /** What records wait for, e.g. "model `m` is unavailable (HTTP 503) since ... (12 records)"; null if none waits. */
  String waiting() {
    String first = null;
    int n = 0;
    for (RecordProgress p : running.values()) {
      if (p.waitingFor() != null) {
        n++;
        if (first == null || p.waitingFor().compareTo(first) < 0) {
          first = p.waitingFor();
        }
      }
    }
    return n == 0 ? null : first + " (" + n + (n == 1 ? " record waits)" : " records wait)");
  }
}
