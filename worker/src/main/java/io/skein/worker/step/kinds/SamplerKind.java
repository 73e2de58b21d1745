package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Json;
import io.skein.worker.step.Outcome;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SampleView;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepLogic;
import io.skein.worker.template.Templates;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code kind: sampler}: a value drawn without a model (see {@link Samplers}), deterministic per
 * (spec seed, record index, step, sample) and persisted when drawn. Parameters are given on the step
 * or under {@code params:} (Data Designer's shape); {@code conditional:} maps conditions to
 * parameters that replace them when the condition holds (the first that holds wins);
 * {@code convert_to} turns the value into an int, a float, a str, or (datetimes) a strftime pattern;
 * {@code accept} is a condition the (converted) value must meet, the step's own name standing for it:
 * the sampler draws again, from the same stream, until it holds (Data Designer's constraints), at
 * most {@code max_draws} times.
 */
public final class SamplerKind implements StepKind {

  private static final Set<String> OWN_KEYS = Set.of("sampler", "params", "conditional", "convert_to", "accept", "max_draws");
  private static final int MAX_DRAWS = 1000;

  @Override
  public String name() {
    return "sampler";
  }

  @Override
  public String description() {
    return "Draw a value without a model: category, subcategory, uniform, gaussian, bernoulli, binomial, poisson, uuid, datetime, timedelta, person, scipy, bernoulli_mixture.";
  }

  @Override
  public ObjectNode schema() {
    return Json.object("""
        {"required": ["sampler"], "properties": {
          "sampler": {"enum": %s, "description": "Which sampler draws the value."},
          "params": {"type": "object", "description": "The sampler's parameters (as Data Designer gives them); they may also be keys of the step. binomial's n goes here."},
          "conditional": {"type": "object", "additionalProperties": {"type": "object"}, "description": "Condition (Jinja, without braces) -> parameters that replace the step's when it holds; the first that holds wins."},
          "convert_to": {"type": "string", "description": "int, float or str; for datetime and timedelta a strftime pattern such as %%Y-%%m-%%d."},
          "accept": {"type": "string", "description": "A condition (Jinja, without braces) the drawn value must meet, the step's own name standing for it (`price < 100`, `end_date > start_date`): the sampler draws again until it holds."},
          "max_draws": {"type": "integer", "minimum": 1, "maximum": 100000, "description": "With accept: how many draws before the record fails (default 1000)."},
          "values": {"type": ["array", "object"], "description": "category: the values; subcategory: a mapping from each value of the parent step to its list."},
          "weights": {"type": "array", "items": {"type": "number", "minimum": 0}, "description": "category: one weight per value (normalized)."},
          "category": {"type": "string", "description": "subcategory: the step whose value picks the list."},
          "low": {"type": "number", "description": "uniform: the lower bound."},
          "high": {"type": "number", "description": "uniform: the upper bound."},
          "mean": {"type": "number", "description": "gaussian, poisson: the mean."},
          "stddev": {"type": "number", "minimum": 0, "description": "gaussian: the standard deviation."},
          "decimal_places": {"type": "integer", "minimum": 0, "description": "uniform, gaussian, scipy, bernoulli_mixture: round to this many places."},
          "p": {"type": "number", "minimum": 0, "maximum": 1, "description": "bernoulli, binomial: the probability of success; bernoulli_mixture: of a draw from the distribution (else 0)."},
          "dist_name": {"type": "string", "description": "scipy, bernoulli_mixture: a scipy.stats distribution (beta, lognorm, gamma, norm, expon, t, chi2, f, weibull_min, pareto, triang, uniform, cauchy, logistic, laplace, gumbel_r; poisson, binom, geom)."},
          "dist_params": {"type": "object", "additionalProperties": {"type": "number"}, "description": "scipy, bernoulli_mixture: the distribution's parameters by scipy's names, with loc and scale."},
          "prefix": {"type": "string", "description": "uuid: put before the id."},
          "short_form": {"type": "boolean", "description": "uuid: 8 hex digits instead of 36 characters."},
          "uppercase": {"type": "boolean", "description": "uuid: in capitals."},
          "start": {"type": "string", "description": "datetime: the earliest (2024-01-01 or 2024-01-01T09:00)."},
          "end": {"type": "string", "description": "datetime: the latest."},
          "unit": {"enum": ["D", "h", "m", "s"], "description": "datetime, timedelta: the unit drawn in (days, hours, minutes, seconds)."},
          "dt_min": {"type": "integer", "description": "timedelta: the smallest delta, in units."},
          "dt_max": {"type": "integer", "description": "timedelta: the largest delta, in units."},
          "reference_column_name": {"type": "string", "description": "timedelta: the datetime step the delta is added to."},
          "locale": {"type": "string", "description": "person: a locale such as en_US, en_GB, de_DE."},
          "sex": {"enum": ["Male", "Female"], "description": "person: the sex (default: either)."},
          "age_range": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2, "description": "person: [min, max] age."}
        }}""".formatted(Json.MAPPER.valueToTree(Samplers.NAMES)));
  }

  @Override
  public StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    String sampler = step.text("sampler");
    ObjectNode params = step.config().deepCopy();
    params.remove(OWN_KEYS);
    if (step.config().path("params").isObject()) {
      params.setAll((ObjectNode) step.config().get("params"));
    }
    Map<String, ObjectNode> conditional = new LinkedHashMap<>();
    step.config().path("conditional").fields().forEachRemaining(e -> conditional.put(e.getKey(), (ObjectNode) e.getValue()));
    String paramPath = step.config().has("params") ? "params." : "";
    Samplers.check(sampler, params, (key, message) -> problems.at(step, key.equals("sampler") ? key : paramPath + key, message));
    conditional.forEach((condition, override) -> {
      ObjectNode merged = params.deepCopy();
      merged.setAll(override);
      Samplers.check(sampler, merged, (key, message) -> problems.at(step, "conditional." + condition + "." + key, message));
    });
    String convertTo = step.text("convert_to");
    if (convertTo != null && !List.of("int", "float", "str").contains(convertTo)) {
      String problem = sampler.equals("datetime") || sampler.equals("timedelta") ? Strftime.problem(convertTo)
          : "must be int, float or str (a strftime pattern only for datetime and timedelta)";
      if (problem != null) {
        problems.at(step, "convert_to", problem);
      }
    }
    int maxDraws = step.config().path("max_draws").asInt(MAX_DRAWS);
    return new Logic(sampler, params, conditional, convertTo, step.text("accept"), maxDraws);
  }

  private record Logic(String sampler, ObjectNode params, Map<String, ObjectNode> conditional, String convertTo, String accept,
      int maxDraws) implements StepLogic {

    @Override
    public Map<String, String> ownValueTemplates() {
      return accept == null ? Map.of() : Map.of("accept", "{{ " + accept + " }}");
    }

    @Override
    public Map<String, String> templates() {
      Map<String, String> out = new LinkedHashMap<>();
      conditional.keySet().forEach(c -> out.put("conditional." + c, "{{ " + c + " }}"));
      return out;
    }

    @Override
    public Map<String, String> names() {
      Map<String, String> out = new LinkedHashMap<>();
      if (sampler.equals("subcategory")) {
        out.put("category", params.path("category").asText());
      }
      if (sampler.equals("timedelta")) {
        out.put("reference_column_name", params.path("reference_column_name").asText());
      }
      return out;
    }

    @Override
    public boolean local() {
      return true;
    }

    @Override
    public Outcome next(SampleView view) {
      JsonNode p = Samplers.effective(params, conditional,
          c -> "1".equals(Templates.get().render("{% if " + c + " %}1{% endif %}", view.context())));
      SplittableRandom random = new SplittableRandom(view.seed());
      try {
        for (int draw = 0; draw < (accept == null ? 1 : maxDraws); draw++) {
          JsonNode value = Conversions.convert(Samplers.draw(sampler, p, random, view), convertTo);
          if (accept == null || accepted(value, view)) {
            return new Outcome.Value(value);
          }
        }
      } catch (RuntimeException e) {
        return new Outcome.Failed("sampler_error", e.getMessage());
      }
      return new Outcome.Failed("sampler_rejected", "no draw of `" + view.step() + "` met accept (" + accept + ") in " + maxDraws
          + " draws");
    }

    private boolean accepted(JsonNode value, SampleView view) {
      Map<String, Object> context = new java.util.HashMap<>(view.context());
      context.put(view.step(), Json.plain(value));
      return "1".equals(Templates.get().render("{% if " + accept + " %}1{% endif %}", context));
    }
  }
}
