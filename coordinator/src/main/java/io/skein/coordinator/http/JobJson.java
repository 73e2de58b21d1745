package io.skein.coordinator.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.StageStore;

/** The JSON shape of a job's status: {@code GET /jobs/{id}}, each entry of {@code GET /jobs}, {@code skein jobs list}. */
public final class JobJson {

  private JobJson() {}

  public static ObjectNode status(JobInfo j) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("id", j.id());
    n.put("name", j.name());
    n.put("state", j.state().wireName());
    if (j.reason() != null) {
      n.put("reason", j.reason());
    }
    n.put("total", j.total());
    n.put("succeeded", j.counts().succeeded());
    n.put("failed", j.counts().failed());
    n.put("in_flight", j.state().isTerminal() ? 0 : j.inFlight());
    n.put("calls", j.counts().calls());
    n.put("tokens", j.counts().tokens());
    cost(n, j);
    long target = j.target();
    if (target > 0) {
      long inFlight = j.state().isTerminal() ? 0 : j.inFlight();
      n.putObject("target").put("rows", target).put("passed", j.counts().succeeded()).put("failed", j.counts().failed())
          .put("started", j.counts().done() + inFlight).put("max_records", j.total())
          .put("extras", Math.max(0, j.counts().succeeded() - target));
    }
    n.put("created_at", java.time.Instant.ofEpochMilli(j.createdAt()).toString());
    n.put("updated_at", java.time.Instant.ofEpochMilli(j.updatedAt()).toString());
    if (j.finishedAt() != null) {
      n.put("finished_at", java.time.Instant.ofEpochMilli(j.finishedAt()).toString());
    }
    if (j.waiting() != null && j.state() == io.skein.protocol.JobProtocol.JobState.RUNNING) {
      n.put("waiting_for", j.waiting());
    }
    if (j.coordinator() != null && !j.state().isTerminal()) {
      n.put("coordinator", j.coordinator());
    }
    return n;
  }

  /**
   * What the job's calls cost so far at the nodes' price tables ({@code cost_usd}, rounded to a
   * millionth of a dollar), and while it runs what the whole job would cost if the records left cost
   * what those done did ({@code projected_cost_usd}).
   */
  private static void cost(ObjectNode n, JobInfo j) {
    long spent = j.counts().costNanos();
    n.put("cost_usd", usd(spent));
    long done = j.counts().done();
    if (!j.state().isTerminal() && done > 0 && j.total() > done && j.total() != io.skein.protocol.JobProtocol.JobStarted.OPEN) {
      n.put("projected_cost_usd", usd(Math.round((double) spent / done * j.total())));
    }
  }

  private static java.math.BigDecimal usd(long nanos) {
    // Six decimals, never in exponent notation (what BigDecimal.toString gives at this scale).
    return java.math.BigDecimal.valueOf(nanos, 9).setScale(6, java.math.RoundingMode.HALF_UP);
  }

  /** The dataset of a job with a target that holds the rows passed beyond it. */
  public static final String EXTRAS = "extras";

  /** The names of a job's datasets: its processors', and {@code extras} for a job with a target. */
  public static java.util.List<String> datasets(JobInfo j) {
    // Read from the stored spec's tree (checked when it was submitted), not parsed again: a watched
    // job's status is read twice a second.
    java.util.List<String> names = new java.util.ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode p : io.skein.protocol.spec.SpecParser.readTree(j.spec()).path("processors")) {
      if (p.has("template") && p.path("name").isTextual()) {
        names.add(p.get("name").asText());
      }
    }
    if (j.target() > 0) {
      names.add(EXTRAS);
    }
    return names;
  }

  /** A job's status with each of its stages' (none for a job of one stage): counts, and the source rows that made no records. */
  public static ObjectNode status(JobInfo j, java.util.List<JobInfo> stages, java.util.Map<String, StageStore.FeedState> feeds) {
    ObjectNode n = status(j);
    if (stages.isEmpty()) {
      return n;
    }
    var list = n.putArray("stages");
    for (JobInfo s : stages) {
      ObjectNode stage = status(s);
      stage.remove(java.util.List.of("name", "created_at", "updated_at", "coordinator"));
      stage.put("name", s.stage().name());
      StageStore.FeedState feed = feeds.get(s.id());
      if (feed != null && !io.skein.coordinator.store.FeedSpec.parse(s.stage().feed()).fromInput()) {
        stage.putObject("skipped").put("filtered", feed.filtered()).put("upstream_errors", feed.upstreamFailed()).put("empty", feed.empty());
      }
      list.add(stage);
    }
    return n;
  }
}
