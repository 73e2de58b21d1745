package io.skein.coordinator.store;

import io.skein.protocol.JobProtocol.JobState;
import java.util.List;

/**
 * A job as the {@code skein_jobs} table holds it: its spec (canonical JSON, inline records moved to
 * the inputs table), the record fields templates were checked against, and its state and counts as
 * last published by its coordinator, the node that coordinator runs on, and what its running
 * records wait for (a provider unavailable or rate-limiting), if anything.
 */
public record JobInfo(
    String id,
    String name,
    String spec,
    List<String> fields,
    String fingerprint,
    boolean generated,
    long total,
    int maxInFlight,
    JobState state,
    String reason,
    Counts counts,
    long inFlight,
    long createdAt,
    long updatedAt,
    Long finishedAt,
    String coordinator,
    String waiting,
    StageInfo stage) {

  /**
   * What a stage's job row says of its place in a staged job: the job it belongs to, its name, and
   * {@code feed}, the JSON of where its records come from (see {@code StageFeed}); null for a job of one stage.
   */
  public record StageInfo(String parentId, String name, String feed) {}

  /** A job of one stage. */
  public JobInfo(String id, String name, String spec, List<String> fields, String fingerprint, boolean generated, long total,
      int maxInFlight, JobState state, String reason, Counts counts, long inFlight, long createdAt, long updatedAt, Long finishedAt,
      String coordinator, String waiting) {
    this(id, name, spec, fields, fingerprint, generated, total, maxInFlight, state, reason, counts, inFlight, createdAt, updatedAt,
        finishedAt, coordinator, waiting, null);
  }

  /** This row with another stage place. */
  public JobInfo withName(String name) {
    return new JobInfo(id, name, spec, fields, fingerprint, generated, total, maxInFlight, state, reason, counts, inFlight, createdAt,
        updatedAt, finishedAt, coordinator, waiting, stage);
  }

  public JobInfo withStage(StageInfo place) {
    return new JobInfo(id, name, spec, fields, fingerprint, generated, total, maxInFlight, state, reason, counts, inFlight, createdAt,
        updatedAt, finishedAt, coordinator, waiting, place);
  }

  /** A job that waits for nothing (as stored before its records report). */
  public JobInfo(String id, String name, String spec, List<String> fields, String fingerprint, boolean generated, long total,
      int maxInFlight, JobState state, String reason, Counts counts, long inFlight, long createdAt, long updatedAt, Long finishedAt,
      String coordinator) {
    this(id, name, spec, fields, fingerprint, generated, total, maxInFlight, state, reason, counts, inFlight, createdAt, updatedAt,
        finishedAt, coordinator, null, null);
  }

  /** The rows its spec's {@code target:} asks for; 0 without one. */
  public long target() {
    return specKey("target").asLong(0);
  }

  /** When it pauses by itself: its spec's {@code max_cost} and {@code max_error_rate} (none for a spec this version cannot read). */
  public io.skein.protocol.JobProtocol.Limits limits() {
    io.skein.protocol.spec.EarlyStop stop;
    try {
      stop = io.skein.protocol.spec.SpecParser.parse(io.skein.protocol.spec.SpecParser.readTree(spec)).earlyStop();
    } catch (RuntimeException e) {
      return io.skein.protocol.JobProtocol.Limits.NONE;
    }
    var rate = stop.maxErrorRate();
    return new io.skein.protocol.JobProtocol.Limits(stop.maxCost() == null ? 0 : stop.maxCostNanos(),
        rate == null ? 0 : rate.rate(), rate == null ? 0 : rate.window());
  }

  /** Whether its spec has {@code dedupe:}. */
  public boolean dedupes() {
    return specKey("dedupe").isObject();
  }

  private com.fasterxml.jackson.databind.JsonNode specKey(String key) {
    try {
      return spec == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : TARGET_READER.readTree(spec).path(key);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper TARGET_READER = new com.fasterxml.jackson.databind.ObjectMapper();

  /** Records ended well and badly, and the calls, tokens and cost (billionths of a dollar) they took. */
  public record Counts(long succeeded, long failed, long calls, long tokens, long costNanos) {
    public static final Counts ZERO = new Counts(0, 0, 0, 0, 0);

    public Counts(long succeeded, long failed, long calls, long tokens) {
      this(succeeded, failed, calls, tokens, 0);
    }

    public long done() {
      return succeeded + failed;
    }

    public Counts plus(Counts o) {
      return new Counts(succeeded + o.succeeded, failed + o.failed, calls + o.calls, tokens + o.tokens, costNanos + o.costNanos);
    }

    public Counts plus(boolean ok, long calls, long tokens) {
      return plus(ok, calls, tokens, 0);
    }

    public Counts plus(boolean ok, long calls, long tokens, long costNanos) {
      return new Counts(succeeded + (ok ? 1 : 0), failed + (ok ? 0 : 1), this.calls + calls, this.tokens + tokens,
          this.costNanos + costNanos);
    }
  }
}
