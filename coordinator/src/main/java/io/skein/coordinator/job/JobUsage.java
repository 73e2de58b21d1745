package io.skein.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.Usage;
import io.skein.worker.gateway.Prices;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A job's calls per step and per model, tallied from its annotated rows (records that ended): calls
 * answered by a provider, answers from the cache, failed attempts by error type (429s are
 * {@code rate_limited}), tokens in and out, and cost at the node's prices. Pure: fed rows one by
 * one, so a job of any size is tallied in constant memory.
 */
public final class JobUsage {

  /** One step's or one model's counts. */
  private static final class Tally {
    long calls;
    long cached;
    long tokensIn;
    long tokensCached;
    long tokensOut;
    long costNanos;
    final Map<String, Long> failed = new TreeMap<>();

    ObjectNode json(ObjectNode out) {
      out.put("calls", calls).put("cached", cached).put("tokens_in", tokensIn).put("tokens_in_cached", tokensCached)
          .put("tokens_out", tokensOut)
          .put("cost_usd", java.math.BigDecimal.valueOf(costNanos, 9).setScale(6, java.math.RoundingMode.HALF_UP));
      ObjectNode failures = out.putObject("failed_attempts");
      failed.forEach(failures::put);
      return out;
    }
  }

  private final Prices prices;
  /** The model a step calls, for attempts that failed before any answer named one. */
  private final Map<String, String> modelOfStep;
  private final Map<String, Tally> steps = new LinkedHashMap<>();
  private final Map<String, Tally> models = new TreeMap<>();
  private long records;

  public JobUsage(Prices prices, Map<String, String> modelOfStep) {
    this.prices = prices;
    this.modelOfStep = modelOfStep;
  }

  /** Adds one annotated row (its {@code calls}). */
  public JobUsage add(JsonNode row) {
    records++;
    for (JsonNode call : row.path("calls")) {
      String step = call.path("step").asText();
      String model = call.hasNonNull("model") ? call.get("model").asText() : modelOfStep.getOrDefault(step, "unknown");
      Tally s = steps.computeIfAbsent(step, k -> new Tally());
      Tally m = models.computeIfAbsent(model, k -> new Tally());
      JsonNode usage = call.get("usage");
      if (usage != null) {
        if (call.path("cached").asBoolean()) {
          s.cached++;
          m.cached++;
        } else {
          long in = usage.path("prompt_tokens").asLong();
          long out = usage.path("completion_tokens").asLong();
          long hit = usage.path("cached_tokens").asLong(0);
          long cost = prices.nanos(model, new Usage(in, out, hit));
          for (Tally t : new Tally[] {s, m}) {
            t.calls++;
            t.tokensIn += in;
            t.tokensCached += hit;
            t.tokensOut += out;
            t.costNanos += cost;
          }
        }
      }
      for (JsonNode f : call.path("failures")) {
        String type = f.path("error_type").asText("unknown");
        s.failed.merge(type, 1L, Long::sum);
        m.failed.merge(type, 1L, Long::sum);
      }
    }
    return this;
  }

  public ObjectNode json() {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("records", records);
    ArrayNode byStep = out.putArray("steps");
    steps.forEach((name, t) -> t.json(byStep.addObject().put("step", name)));
    ArrayNode byModel = out.putArray("models");
    models.forEach((name, t) -> t.json(byModel.addObject().put("model", name)));
    return out;
  }
}
