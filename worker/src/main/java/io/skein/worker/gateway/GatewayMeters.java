package io.skein.worker.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One model's meters on this node, kept across its gateway's restarts and idle stops: attempts by
 * outcome (ok, cached, or the error type: {@code rate_limited} for 429s, {@code server_error} for
 * 5xx), the provider's latency, tokens in and out, calls not sent (breaker open, queue full), and
 * what answers cost (at the node's price table), and gauges for this node's share of the concurrency, the adaptive limit, calls in flight and waiting.
 * Every meter carries the tag {@code model}.
 */
public final class GatewayMeters {

  /** Meters that go nowhere, for gateways started without a registry (tests, previews). */
  public static GatewayMeters none(String model) {
    return new GatewayMeters(new CompositeMeterRegistry(), model);
  }

  private final MeterRegistry registry;
  private final String model;
  private final Map<String, Counter> attempts = new ConcurrentHashMap<>();
  private final Map<String, Counter> notSent = new ConcurrentHashMap<>();
  private final Timer latency;
  private final DistributionSummary promptTokens;
  private final DistributionSummary completionTokens;
  private final Prices prices;
  private final Counter cost;
  private final AtomicInteger ceiling = new AtomicInteger();
  private final AtomicInteger limit = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger waiting = new AtomicInteger();

  public GatewayMeters(MeterRegistry registry, String model) {
    this(registry, model, Prices.NONE);
  }

  /** As above, counting what answers cost at {@code prices} ({@code skein_model_cost_dollars_total}). */
  public GatewayMeters(MeterRegistry registry, String model, Prices prices) {
    this.registry = registry;
    this.model = model;
    this.prices = prices;
    this.cost = Counter.builder("skein.model.cost").baseUnit("dollars")
        .description("What answered calls cost, at the node's price table (skein.prices); 0 for a model without a price")
        .tag("model", model).register(registry);
    this.latency = Timer.builder("skein.model.latency").description("Time the provider took to answer an attempt")
        .tag("model", model).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofMinutes(5)).register(registry);
    this.promptTokens = tokens("input");
    this.completionTokens = tokens("output");
    gauge("skein.model.concurrency.max", "This node's share of the model's max_concurrency", ceiling);
    gauge("skein.model.concurrency.limit", "Calls this node sends at once now, adapted to the provider's 429s", limit);
    gauge("skein.model.calls.in.flight", "Calls sent and not yet answered", inFlight);
    gauge("skein.model.calls.waiting", "Calls waiting at the gateway for a slot or a budget", waiting);
  }

  private DistributionSummary tokens(String direction) {
    return DistributionSummary.builder("skein.model.tokens").baseUnit("tokens")
        .description("Tokens per answered call; its _sum is the tokens so far")
        .tags("model", model, "direction", direction).register(registry);
  }

  private void gauge(String name, String description, AtomicInteger value) {
    Gauge.builder(name, value, AtomicInteger::get).description(description).tag("model", model).register(registry);
  }

  /** An attempt came back: an answer (from the provider or the cache) or a failure. */
  void completed(ModelOutcome outcome) {
    if (outcome instanceof ModelOutcome.Ok ok) {
      attempt(ok.cached() ? "cached" : "ok");
      if (!ok.cached()) {
        latency.record(ok.latencyMillis(), TimeUnit.MILLISECONDS);
        promptTokens.record(ok.usage().promptTokens());
        completionTokens.record(ok.usage().completionTokens());
        cost.increment(Prices.dollars(prices.nanos(model, ok.usage())));
      }
    } else if (outcome instanceof ModelOutcome.Failed failed) {
      attempt(failed.errorType());
      latency.record(failed.latencyMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** A call the gateway answered without sending it, for {@code reason} (circuit_open, queue_full). */
  void notSent(String reason) {
    notSent.computeIfAbsent(reason, r -> Counter.builder("skein.model.calls.not.sent")
        .description("Calls refused before sending: breaker open or queue full").tags("model", model, "reason", r)
        .register(registry)).increment();
  }

  private void attempt(String outcome) {
    attempts.computeIfAbsent(outcome, o -> Counter.builder("skein.model.calls")
        .description("Attempts answered, by outcome: ok, cached, or the error type (rate_limited is a 429, server_error a 5xx)")
        .tags("model", model, "outcome", o).register(registry)).increment();
  }

  /** How the gateway stands now. */
  void state(int ceiling, int limit, int inFlight, int waiting) {
    this.ceiling.set(ceiling);
    this.limit.set(limit);
    this.inFlight.set(inFlight);
    this.waiting.set(waiting);
  }
}
