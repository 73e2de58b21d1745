package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.worker.step.Json;
import io.skein.worker.step.SampleView;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * The samplers of {@code kind: sampler}, with Data Designer's names and parameters. Each checks
 * its parameters ({@link #check}, errors by parameter name) and draws from a random source seeded
 * per (spec seed, record index, step, sample), so a value is the same however often it is drawn.
 */
final class Samplers {

  static final List<String> NAMES = List.of("category", "subcategory", "uniform", "gaussian", "bernoulli", "binomial", "poisson",
      "uuid", "datetime", "timedelta", "person", "scipy", "bernoulli_mixture");

  static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

  /** Binomial trials are drawn one by one, inside the record's actor: bounded. */
  static final int MAX_TRIALS = 1_000_000;

  private Samplers() {}

  /** Checks the parameters of {@code sampler}; {@code problem} takes (parameter, message). */
  static void check(String sampler, JsonNode p, BiConsumer<String, String> problem) {
    switch (sampler) {
      case "category" -> {
        if (!p.path("values").isArray() || p.path("values").isEmpty()) {
          problem.accept("values", "missing: a category sampler needs a non-empty list of values");
        } else if (p.has("weights")) {
          checkWeights(p.get("values").size(), p.get("weights"), problem);
        }
      }
      case "subcategory" -> {
        if (!p.path("category").isTextual()) {
          problem.accept("category", "missing: the step whose value picks the list");
        }
        if (!p.path("values").isObject() || p.path("values").isEmpty()) {
          problem.accept("values", "missing: a mapping from each category value to its list of subcategories");
        } else {
          p.get("values").fields().forEachRemaining(e -> {
            if (!e.getValue().isArray() || e.getValue().isEmpty()) {
              problem.accept("values." + e.getKey(), "must be a non-empty list");
            }
          });
        }
      }
      case "uniform" -> {
        number(p, "low", problem);
        number(p, "high", problem);
        if (p.path("low").isNumber() && p.path("high").isNumber() && p.get("low").asDouble() > p.get("high").asDouble()) {
          problem.accept("high", "must not be below low");
        }
      }
      case "gaussian" -> {
        number(p, "mean", problem);
        number(p, "stddev", problem);
        if (p.path("stddev").asDouble(0) < 0) {
          problem.accept("stddev", "must not be negative");
        }
      }
      case "bernoulli" -> probability(p, "p", problem);
      case "binomial" -> {
        if (!p.path("n").canConvertToInt() || p.path("n").asInt() < 0) {
          problem.accept("n", "missing: the number of trials (under params, since `n:` on a step asks for samples)");
        } else if (p.get("n").asInt() > MAX_TRIALS) {
          problem.accept("n", "must be at most " + MAX_TRIALS + " trials");
        }
        probability(p, "p", problem);
      }
      case "poisson" -> {
        number(p, "mean", problem);
        if (p.path("mean").asDouble(0) < 0) {
          problem.accept("mean", "must not be negative");
        }
      }
      case "uuid" -> { }
      case "datetime" -> {
        LocalDateTime start = dateTime(p, "start", problem);
        LocalDateTime end = dateTime(p, "end", problem);
        if (start != null && end != null && end.isBefore(start)) {
          problem.accept("end", "must not be before start");
        }
        unit(p, problem);
      }
      case "timedelta" -> {
        number(p, "dt_min", problem);
        number(p, "dt_max", problem);
        if (p.path("dt_min").asDouble(0) > p.path("dt_max").asDouble(0)) {
          problem.accept("dt_max", "must not be below dt_min");
        }
        if (!p.path("reference_column_name").isTextual()) {
          problem.accept("reference_column_name", "missing: the datetime step the delta is added to");
        }
        unit(p, problem);
      }
      case "person" -> {
        JsonNode ages = p.path("age_range");
        if (!ages.isMissingNode() && (!ages.isArray() || ages.size() != 2 || ages.get(0).asInt() > ages.get(1).asInt())) {
          problem.accept("age_range", "must be [min, max] with min <= max");
        }
        String sex = p.path("sex").asText("");
        if (!sex.isEmpty() && !sex.equals("Male") && !sex.equals("Female")) {
          problem.accept("sex", "must be Male or Female");
        }
      }
      case "scipy" -> ScipyDistributions.check(p, problem);
      case "bernoulli_mixture" -> {
        probability(p, "p", problem);
        ScipyDistributions.check(p, problem);
      }
      default -> problem.accept("sampler", "unknown sampler `" + sampler + "` (known: " + String.join(", ", NAMES) + ")");
    }
  }

  static JsonNode draw(String sampler, JsonNode p, SplittableRandom random, SampleView view) {
    return switch (sampler) {
      case "category" -> pick(p.get("values"), p.get("weights"), random);
      case "subcategory" -> {
        JsonNode parent = view.value(p.get("category").asText());
        JsonNode list = p.get("values").get(parent == null ? "" : Json.text(parent));
        if (list == null) {
          throw new IllegalStateException("no subcategories for `" + Json.text(parent) + "` (values has " + fieldNames(p.get("values")) + ")");
        }
        yield pick(list, null, random);
      }
      case "uniform" -> decimals(p, p.get("low").asDouble() + random.nextDouble() * (p.get("high").asDouble() - p.get("low").asDouble()));
      case "gaussian" -> decimals(p, p.get("mean").asDouble() + gaussian(random) * p.get("stddev").asDouble());
      case "bernoulli" -> Json.NODES.numberNode(random.nextDouble() < p.get("p").asDouble() ? 1 : 0);
      case "binomial" -> {
        int k = 0;
        for (int i = 0; i < p.get("n").asInt(); i++) {
          k += random.nextDouble() < p.get("p").asDouble() ? 1 : 0;
        }
        yield Json.NODES.numberNode(k);
      }
      case "poisson" -> Json.NODES.numberNode(poisson(p.get("mean").asDouble(), random));
      case "uuid" -> uuid(p, random);
      case "datetime" -> {
        LocalDateTime start = parse(p.get("start").asText());
        LocalDateTime end = parse(p.get("end").asText());
        ChronoUnit unit = unit(p.path("unit").asText("D"));
        long span = unit.between(start, end);
        yield Json.NODES.textNode(ISO.format(start.plus(span <= 0 ? 0 : random.nextLong(span + 1), unit)));
      }
      case "timedelta" -> {
        JsonNode ref = view.value(p.get("reference_column_name").asText());
        LocalDateTime base = parse(Json.text(ref));
        long min = p.get("dt_min").asLong();
        long max = p.get("dt_max").asLong();
        yield Json.NODES.textNode(ISO.format(base.plus(min + (max > min ? random.nextLong(max - min + 1) : 0), unit(p.path("unit").asText("D")))));
      }
      case "person" -> People.draw(p, random);
      case "scipy" -> decimals(p, ScipyDistributions.draw(p, random.nextDouble()));
      case "bernoulli_mixture" -> {
        // Data Designer's: 0 with probability 1 - p, else a draw from the distribution.
        boolean success = random.nextDouble() < p.get("p").asDouble();
        double u = random.nextDouble();
        yield decimals(p, success ? ScipyDistributions.draw(p, u) : 0.0);
      }
      default -> throw new IllegalStateException("unknown sampler " + sampler);
    };
  }

  private static JsonNode pick(JsonNode values, JsonNode weights, SplittableRandom random) {
    if (weights == null || weights.isNull()) {
      return values.get(random.nextInt(values.size()));
    }
    double total = 0;
    for (JsonNode w : weights) {
      total += w.asDouble();
    }
    double x = random.nextDouble() * total;
    for (int i = 0; i < values.size(); i++) {
      x -= weights.get(i).asDouble();
      if (x < 0) {
        return values.get(i);
      }
    }
    return values.get(values.size() - 1);
  }

  private static JsonNode decimals(JsonNode p, double x) {
    if (p.has("decimal_places")) {
      return Json.NODES.numberNode(java.math.BigDecimal.valueOf(x).setScale(p.get("decimal_places").asInt(), java.math.RoundingMode.HALF_EVEN)
          .doubleValue());
    }
    return Json.NODES.numberNode(x);
  }

  private static double gaussian(SplittableRandom random) {
    double u1 = 1 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static long poisson(double mean, SplittableRandom random) {
    if (mean > 500) {
      return Math.max(0, Math.round(mean + gaussian(random) * Math.sqrt(mean)));
    }
    double limit = Math.exp(-mean);
    double product = random.nextDouble();
    long k = 0;
    while (product > limit) {
      product *= random.nextDouble();
      k++;
    }
    return k;
  }

  private static JsonNode uuid(JsonNode p, SplittableRandom random) {
    String id = new UUID((random.nextLong() & ~0xF000L) | 0x4000L, (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L).toString();
    if (p.path("short_form").asBoolean(false)) {
      id = id.replace("-", "").substring(0, 8);
    }
    if (p.path("uppercase").asBoolean(false)) {
      id = id.toUpperCase(java.util.Locale.ROOT);
    }
    return Json.NODES.textNode(p.path("prefix").asText("") + id);
  }

  static LocalDateTime parse(String text) {
    try {
      return LocalDateTime.parse(text);
    } catch (DateTimeParseException e) {
      try {
        return LocalDate.parse(text).atStartOfDay();
      } catch (DateTimeParseException e2) {
        return LocalDateTime.parse(text.replace(' ', 'T'));
      }
    }
  }

  private static ChronoUnit unit(String unit) {
    return switch (unit) {
      case "h" -> ChronoUnit.HOURS;
      case "m" -> ChronoUnit.MINUTES;
      case "s" -> ChronoUnit.SECONDS;
      default -> ChronoUnit.DAYS;
    };
  }

  private static void unit(JsonNode p, BiConsumer<String, String> problem) {
    if (p.has("unit") && !List.of("D", "h", "m", "s").contains(p.get("unit").asText())) {
      problem.accept("unit", "must be D, h, m or s");
    }
  }

  private static LocalDateTime dateTime(JsonNode p, String key, BiConsumer<String, String> problem) {
    if (!p.path(key).isTextual()) {
      problem.accept(key, "missing: a date or datetime such as 2024-01-01 or 2024-01-01T09:00");
      return null;
    }
    try {
      return parse(p.get(key).asText());
    } catch (DateTimeParseException e) {
      problem.accept(key, "`" + p.get(key).asText() + "` is not a date or datetime such as 2024-01-01 or 2024-01-01T09:00");
      return null;
    }
  }

  private static void number(JsonNode p, String key, BiConsumer<String, String> problem) {
    if (!p.path(key).isNumber()) {
      problem.accept(key, p.has(key) ? "must be a number" : "missing");
    }
  }

  private static void probability(JsonNode p, String key, BiConsumer<String, String> problem) {
    number(p, key, problem);
    double v = p.path(key).asDouble(0);
    if (v < 0 || v > 1) {
      problem.accept(key, "must be between 0 and 1");
    }
  }

  private static void checkWeights(int values, JsonNode weights, BiConsumer<String, String> problem) {
    if (!weights.isArray() || weights.size() != values) {
      problem.accept("weights", "has " + (weights.isArray() ? weights.size() : 0) + " weights for " + values + " values: give one weight per value");
      return;
    }
    double total = 0;
    for (int i = 0; i < weights.size(); i++) {
      if (!weights.get(i).isNumber() || weights.get(i).asDouble() < 0) {
        problem.accept("weights[" + i + "]", "must be a number of at least 0");
      }
      total += weights.get(i).asDouble();
    }
    if (total <= 0) {
      problem.accept("weights", "must not all be 0");
    }
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> out = new ArrayList<>();
    node.fieldNames().forEachRemaining(out::add);
    return out;
  }

  /** The parameters in force: the step's, with those of the first {@code conditional} entry whose condition holds. */
  static JsonNode effective(ObjectNode params, Map<String, ObjectNode> conditional, java.util.function.Predicate<String> holds) {
    for (Map.Entry<String, ObjectNode> e : conditional.entrySet()) {
      if (holds.test(e.getKey())) {
        ObjectNode merged = params.deepCopy();
        merged.setAll(e.getValue());
        return merged;
      }
    }
    return params;
  }
}
