package io.skein.worker.gateway;

import io.skein.protocol.Usage;
import java.util.Map;

/**
 * What a model's tokens cost: US dollars per million input and output tokens, by model name (as
 * specs name models; the server's {@code skein.prices}). Costs are counted in billionths of a
 * dollar, so sums over millions of calls stay exact. A model without a price costs nothing here
 * (the built-in simulator, a local vLLM), and {@link #priced} says whether one has a price.
 */
public final class Prices {

  /** Dollars per million tokens in and out, and in from the provider's prompt cache (where it discounts them). */
  public record Price(double input, double output, double cachedInput) {
    public Price {
      for (double p : new double[] {input, output, cachedInput}) {
        if (!(p >= 0) || Double.isInfinite(p)) {
          throw new IllegalArgumentException("a price is a non-negative number of dollars per million tokens, got " + p);
        }
      }
    }

    /** No discount for cached input. */
    public Price(double input, double output) {
      this(input, output, input);
    }
  }

  public static final Prices NONE = new Prices(Map.of());

  private final Map<String, Price> byModel;

  public Prices(Map<String, Price> byModel) {
    this.byModel = Map.copyOf(byModel);
  }

  public boolean priced(String model) {
    return byModel.containsKey(model);
  }

  public boolean isEmpty() {
    return byModel.isEmpty();
  }

  /** What {@code usage} of {@code model} cost, in billionths of a dollar (0 without a price). */
  public long nanos(String model, Usage usage) {
    Price price = model == null || usage == null ? null : byModel.get(model);
    if (price == null) {
      return 0;
    }
    // dollars = tokens * price / 1e6, so billionths of a dollar = tokens * price * 1e3
    long cached = Math.min(usage.cachedPromptTokens(), usage.promptTokens());
    return Math.round((usage.promptTokens() - cached) * price.input() * 1e3 + cached * price.cachedInput() * 1e3
        + usage.completionTokens() * price.output() * 1e3);
  }

  /**
   * The table in {@code skein.prices}: {@code "gpt-4o" { input = 2.50, output = 10.00, cached-input = 1.25 }},
   * dollars per million tokens ({@code cached-input}: prompt tokens the provider's cache served,
   * default the input price); a wrong entry stops the node at start, naming it.
   */
  public static Prices from(com.typesafe.config.Config prices) {
    Map<String, Price> table = new java.util.HashMap<>();
    for (String model : prices.root().keySet()) {
      String path = com.typesafe.config.ConfigUtil.joinPath(model);
      try {
        com.typesafe.config.Config entry = prices.getConfig(path);
        java.util.Set<String> unknown = new java.util.TreeSet<>(entry.root().keySet());
        unknown.removeAll(java.util.Set.of("input", "output", "cached-input"));
        if (!unknown.isEmpty()) {
          throw new IllegalArgumentException("unknown keys " + unknown
              + " (a price has input, output and optionally cached-input, dollars per million tokens)");
        }
        double input = entry.getDouble("input");
        table.put(model, new Price(input, entry.getDouble("output"), entry.hasPath("cached-input") ? entry.getDouble("cached-input") : input));
      } catch (com.typesafe.config.ConfigException | IllegalArgumentException e) {
        throw new IllegalArgumentException("skein.prices." + path + ": " + e.getMessage(), e);
      }
    }
    return new Prices(table);
  }

  /** Dollars from billionths of a dollar. */
  public static double dollars(long nanos) {
    return nanos / 1e9;
  }

  @Override
  public String toString() {
    return "Prices" + byModel;
  }
}
