package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.commons.statistics.distribution.BetaDistribution;
import org.apache.commons.statistics.distribution.BinomialDistribution;
import org.apache.commons.statistics.distribution.CauchyDistribution;
import org.apache.commons.statistics.distribution.ChiSquaredDistribution;
import org.apache.commons.statistics.distribution.ContinuousDistribution;
import org.apache.commons.statistics.distribution.DiscreteDistribution;
import org.apache.commons.statistics.distribution.ExponentialDistribution;
import org.apache.commons.statistics.distribution.FDistribution;
import org.apache.commons.statistics.distribution.GammaDistribution;
import org.apache.commons.statistics.distribution.GeometricDistribution;
import org.apache.commons.statistics.distribution.GumbelDistribution;
import org.apache.commons.statistics.distribution.LaplaceDistribution;
import org.apache.commons.statistics.distribution.LogNormalDistribution;
import org.apache.commons.statistics.distribution.LogisticDistribution;
import org.apache.commons.statistics.distribution.NormalDistribution;
import org.apache.commons.statistics.distribution.ParetoDistribution;
import org.apache.commons.statistics.distribution.PoissonDistribution;
import org.apache.commons.statistics.distribution.TDistribution;
import org.apache.commons.statistics.distribution.TriangularDistribution;
import org.apache.commons.statistics.distribution.UniformContinuousDistribution;
import org.apache.commons.statistics.distribution.WeibullDistribution;

/**
 * scipy.stats distributions by scipy's names and parameters, for the {@code scipy} and
 * {@code bernoulli_mixture} samplers (Data Designer's {@code dist_name} and {@code dist_params}):
 * a continuous one is its standard form (shape parameters only, from Apache Commons Statistics)
 * shifted by {@code loc} and stretched by {@code scale}, as scipy defines them; a discrete one is
 * shifted by {@code loc}. A value is the inverse CDF at a uniform draw, so it is as deterministic as
 * the draw.
 */
final class ScipyDistributions {

  private record Continuous(List<String> shapes, Function<double[], ContinuousDistribution> standard) {}

  private record Discrete(List<String> shapes, Function<double[], DiscreteDistribution> of, int offset) {}

  private static final Map<String, Continuous> CONTINUOUS = Map.ofEntries(
      Map.entry("norm", new Continuous(List.of(), s -> NormalDistribution.of(0, 1))),
      Map.entry("uniform", new Continuous(List.of(), s -> UniformContinuousDistribution.of(0, 1))),
      Map.entry("expon", new Continuous(List.of(), s -> ExponentialDistribution.of(1))),
      Map.entry("beta", new Continuous(List.of("a", "b"), s -> BetaDistribution.of(s[0], s[1]))),
      Map.entry("lognorm", new Continuous(List.of("s"), s -> LogNormalDistribution.of(0, s[0]))),
      Map.entry("gamma", new Continuous(List.of("a"), s -> GammaDistribution.of(s[0], 1))),
      Map.entry("t", new Continuous(List.of("df"), s -> TDistribution.of(s[0]))),
      Map.entry("chi2", new Continuous(List.of("df"), s -> ChiSquaredDistribution.of(s[0]))),
      Map.entry("f", new Continuous(List.of("dfn", "dfd"), s -> FDistribution.of(s[0], s[1]))),
      Map.entry("weibull_min", new Continuous(List.of("c"), s -> WeibullDistribution.of(s[0], 1))),
      Map.entry("pareto", new Continuous(List.of("b"), s -> ParetoDistribution.of(1, s[0]))),
      Map.entry("triang", new Continuous(List.of("c"), s -> TriangularDistribution.of(0, s[0], 1))),
      Map.entry("cauchy", new Continuous(List.of(), s -> CauchyDistribution.of(0, 1))),
      Map.entry("logistic", new Continuous(List.of(), s -> LogisticDistribution.of(0, 1))),
      Map.entry("laplace", new Continuous(List.of(), s -> LaplaceDistribution.of(0, 1))),
      Map.entry("gumbel_r", new Continuous(List.of(), s -> GumbelDistribution.of(0, 1))));

  private static final Map<String, Discrete> DISCRETE = Map.of(
      "poisson", new Discrete(List.of("mu"), s -> PoissonDistribution.of(s[0]), 0),
      "binom", new Discrete(List.of("n", "p"), s -> BinomialDistribution.of((int) s[0], s[1]), 0),
      // scipy's geom counts trials up to the first success (from 1); Commons counts the failures before it.
      "geom", new Discrete(List.of("p"), s -> GeometricDistribution.of(s[0]), 1));

  static final List<String> NAMES = java.util.stream.Stream.concat(CONTINUOUS.keySet().stream(), DISCRETE.keySet().stream())
      .sorted().toList();

  private ScipyDistributions() {}

  /** Checks {@code dist_name} and {@code dist_params} of {@code p}; {@code problem} takes (parameter, message). */
  static void check(JsonNode p, BiConsumer<String, String> problem) {
    String name = p.path("dist_name").asText("");
    List<String> shapes = CONTINUOUS.containsKey(name) ? CONTINUOUS.get(name).shapes()
        : DISCRETE.containsKey(name) ? DISCRETE.get(name).shapes() : null;
    if (shapes == null) {
      problem.accept("dist_name", name.isEmpty() ? "missing: a scipy.stats distribution such as beta or lognorm"
          : "`" + name + "` is not one of the distributions Skein knows: " + String.join(", ", NAMES));
      return;
    }
    JsonNode params = p.path("dist_params");
    for (String shape : shapes) {
      if (!params.path(shape).isNumber()) {
        problem.accept("dist_params." + shape, "missing: " + name + " needs " + String.join(", ", shapes));
      }
    }
    List<String> allowed = new java.util.ArrayList<>(shapes);
    allowed.add("loc");
    if (CONTINUOUS.containsKey(name)) {
      allowed.add("scale");
    }
    params.fieldNames().forEachRemaining(k -> {
      if (!allowed.contains(k)) {
        problem.accept("dist_params." + k, "not a parameter of " + name + " (it takes " + String.join(", ", allowed) + ")");
      }
    });
    if (params.path("scale").asDouble(1) <= 0) {
      problem.accept("dist_params.scale", "must be above 0");
    }
    try {
      if (hasShapes(params, shapes)) {
        draw(p, 0.5);
      }
    } catch (IllegalArgumentException e) {
      problem.accept("dist_params", name + " cannot be made of these parameters: " + e.getMessage());
    }
  }

  private static boolean hasShapes(JsonNode params, List<String> shapes) {
    return shapes.stream().allMatch(s -> params.path(s).isNumber());
  }

  /** The value at {@code u} (a uniform draw in [0, 1)) of the distribution {@code p} names. */
  static double draw(JsonNode p, double draw) {
    // 0 would be minus infinity for an unbounded distribution.
    double u = Math.max(draw, Double.MIN_NORMAL);
    String name = p.get("dist_name").asText();
    JsonNode params = p.path("dist_params");
    double loc = params.path("loc").asDouble(0);
    Continuous c = CONTINUOUS.get(name);
    if (c != null) {
      return loc + params.path("scale").asDouble(1) * c.standard().apply(shapes(params, c.shapes())).inverseCumulativeProbability(u);
    }
    Discrete d = DISCRETE.get(name);
    return loc + d.offset() + d.of().apply(shapes(params, d.shapes())).inverseCumulativeProbability(u);
  }

  private static double[] shapes(JsonNode params, List<String> names) {
    return names.stream().mapToDouble(n -> params.get(n).asDouble()).toArray();
  }
}
