package io.skein.worker.entity;

import io.skein.protocol.CallId;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.spec.RetrySpec;
import io.skein.worker.gateway.ModelOutcome;
import java.util.List;
import java.util.Map;

/**
 * Whether a call may be sent again after its failed attempts, as persisted: when (exponential
 * backoff, or Retry-After), never (an error no retry fixes, or {@code retry.max_attempts} spent), or
 * not until the job is resumed (a refusal that would meet every record the same way; such refusals
 * do not count against {@code max_attempts}, and neither do 429s, which only make the record wait).
 * Pure; the schedule survives a crash.
 */
final class RetryPolicy {

  sealed interface Verdict {}

  /** May be sent at {@code atMillis} (now or later). */
  record Ready(long atMillis) implements Verdict {}

  record GiveUp(String errorType, String message) implements Verdict {}

  /** Refused after the job's last resume: the record waits for the next. */
  record Refused(String errorType, String message, long atMillis) implements Verdict {}

  private final RetrySpec retry;
  private final RecordState state;
  private final Map<CallId, Long> notBefore;
  private final long resumedAt;

  RetryPolicy(RetrySpec retry, RecordState state, Map<CallId, Long> notBefore, long resumedAt) {
    this.retry = retry;
    this.state = state;
    this.notBefore = notBefore;
    this.resumedAt = resumedAt;
  }

  Verdict verdict(CallId id) {
    List<CallFailed> failed = state.failures(id);
    long readyAt = notBefore.getOrDefault(id, 0L);
    if (failed.isEmpty()) {
      return new Ready(readyAt);
    }
    CallFailed last = failed.get(failed.size() - 1);
    if (ModelOutcome.Errors.blocksJob(last.errorType())) {
      // Refused before the job was resumed: try again now, whatever the backoff.
      return last.atMillis() >= resumedAt ? new Refused(last.errorType(), last.message(), last.atMillis()) : new Ready(readyAt);
    }
    if (!last.retryable()) {
      return new GiveUp(last.errorType(), last.message());
    }
    long down = unavailableFor(failed);
    if (down >= retry.pauseAfterMillis() && last.atMillis() >= resumedAt) {
      // Not this record's fault and not fixed by waiting longer here: the job pauses until resumed.
      return new Refused(UNREACHABLE, "the provider has been unavailable for " + down / 1000 + " s; last: " + last.message(),
          last.atMillis());
    }
    // A 429 says "not now", not "not this": it makes the record wait (the gateway slows down) and never fails it.
    int tried = (int) failed.stream().filter(f -> !ModelOutcome.Errors.blocksJob(f.errorType())).count();
    int counted = (int) failed.stream().filter(RetryPolicy::countsAsAttempt).count();
    if (counted >= retry.maxAttempts()) {
      return new GiveUp(last.errorType(), "gave up after " + counted + " attempts; last: " + last.message());
    }
    return new Ready(Math.max(readyAt, last.atMillis() + backoff(retry, tried, last)));
  }

  /** Error type with which a record reports that its provider stayed unavailable past {@code retry.pause_after}. */
  static final String UNREACHABLE = "provider_unavailable";

  /** Whether a failure spends one of {@code max_attempts}: not a refusal that blocks the job, a rate limit, or an unavailable provider. */
  static boolean countsAsAttempt(CallFailed f) {
    return !ModelOutcome.Errors.blocksJob(f.errorType()) && !ModelOutcome.Errors.RATE_LIMITED.equals(f.errorType()) && !unavailable(f);
  }

  /**
   * What a call whose failures are these waits for, when its last failure spends no attempt and
   * blocks no job (the provider rate-limiting or unavailable), with when that began; else null.
   */
  static String waitingFor(List<CallFailed> failures, String model) {
    if (failures == null || failures.isEmpty()) {
      return null;
    }
    CallFailed last = failures.get(failures.size() - 1);
    if (countsAsAttempt(last) || ModelOutcome.Errors.blocksJob(last.errorType())) {
      return null;
    }
    int i = failures.size() - 1;
    while (i > 0 && !countsAsAttempt(failures.get(i - 1)) && !ModelOutcome.Errors.blocksJob(failures.get(i - 1).errorType())) {
      i--;
    }
    String what = ModelOutcome.Errors.RATE_LIMITED.equals(last.errorType()) ? "model `" + model + "` is rate-limiting (HTTP 429)"
        : "model `" + model + "` is unavailable (" + (last.status() > 0 ? "HTTP " + last.status() : "no connection") + ")";
    return what + " since " + java.time.Instant.ofEpochMilli(failures.get(i).atMillis());
  }

  /** The provider is not there: connections refused or reset, or a gateway in front of it answering 502, 503 or 504. */
  static boolean unavailable(CallFailed f) {
    return ModelOutcome.Errors.CONNECTION.equals(f.errorType()) || f.status() == 502 || f.status() == 503 || f.status() == 504;
  }

  /** How long the latest unbroken run of unavailable failures lasts (0 if the last failure is another). */
  private static long unavailableFor(List<CallFailed> failed) {
    int i = failed.size() - 1;
    while (i >= 0 && unavailable(failed.get(i))) {
      i--;
    }
    return i == failed.size() - 1 ? 0 : failed.get(failed.size() - 1).atMillis() - failed.get(i + 1).atMillis();
  }

  /**
   * Exponential backoff with "equal jitter" (half fixed, half random), the random half derived from
   * the failure itself so a replayed record waits as long as it would have. Retry-After wins when longer.
   */
  static long backoff(RetrySpec retry, int failures, CallFailed last) {
    long exp = retry.initialBackoffMillis() << Math.min(failures - 1, 20);
    long base = Math.min(retry.maxBackoffMillis(), exp);
    long h = (last.fingerprint() + "#" + failures).hashCode() & 0x7fffffffL;
    long jittered = base / 2 + (base / 2 == 0 ? 0 : h % (base / 2 + 1));
    return Math.max(jittered, last.retryAfterMillis());
  }
}
