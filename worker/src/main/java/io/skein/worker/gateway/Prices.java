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

  /** Dollars per million tokens in and out. */
  public record Price(double input, double output) {
    public Price {
      if (!(input >= 0) || !(output >= 0) || Double.isInfinite(input) || Double.isInfinite(output)) {
        throw new IllegalArgumentException("a price is a non-negative number of dollars per million tokens, got " + input + " and " + output);
      }
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
    return Math.round(usage.promptTokens() * price.input() * 1e3 + usage.completionTokens() * price.output() * 1e3);
  }

  /**
   * The table in {@code skein.prices}: {@code "gpt-4o" { input = 2.50, output = 10.00 }}, dollars per
   * million tokens; a wrong entry stops the node at start, naming it.
   */
  public static Prices from(com.typesafe.config.Config prices) {
    Map<String, Price> table = new java.util.HashMap<>();
    for (String model : prices.root().keySet()) {
      String path = com.typesafe.config.ConfigUtil.joinPath(model);
      try {
        com.typesafe.config.Config entry = prices.getConfig(path);
        java.util.Set<String> unknown = new java.util.TreeSet<>(entry.root().keySet());
        unknown.removeAll(java.util.Set.of("input", "output"));
        if (!unknown.isEmpty()) {
          throw new IllegalArgumentException("unknown keys " + unknown + " (a price has input and output, dollars per million tokens)");
        }
        table.put(model, new Price(entry.getDouble("input"), entry.getDouble("output")));
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
