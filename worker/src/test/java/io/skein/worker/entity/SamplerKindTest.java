package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every sampler draws what its parameters say, the same value for the same (seed, record, step), persisted once. */
class SamplerKindTest {

  private static final String HEAD = "name: s\nseed: 11\nmodels: {m: sim-small}\nsteps:\n";

  private static JsonNode row(String steps, long index) {
    RecordRun run = new RecordRun(HEAD + steps, "{}", index);
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> "unused"));
    return run.row();
  }

  private static JsonNode value(String step, long index) {
    return row(step, index).get(step.substring(step.indexOf("name: ") + 6, step.indexOf(',')));
  }

  @Test
  void categoryFollowsItsWeightsAndIsTheSameEachTime() {
    String step = "  - {name: c, kind: sampler, sampler: category, values: [a, b, c], weights: [5, 3, 2]}\n";
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 2000; i++) {
      counts.merge(value(step, i).asText(), 1, Integer::sum);
    }
    assertTrue(Math.abs(counts.get("a") - 1000) < 100, counts.toString());
    assertTrue(Math.abs(counts.get("b") - 600) < 90, counts.toString());
    assertTrue(Math.abs(counts.get("c") - 400) < 80, counts.toString());
    assertEquals(value(step, 17), value(step, 17), "the same record draws the same value");
    RecordRun other = new RecordRun(HEAD.replace("seed: 11", "seed: 12") + step, "{}", 0);
    other.run(c -> "");
    Set<String> differ = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      RecordRun a = new RecordRun(HEAD + step, "{}", i);
      RecordRun b = new RecordRun(HEAD.replace("seed: 11", "seed: 12") + step, "{}", i);
      a.run(c -> "");
      b.run(c -> "");
      differ.add(a.row().get("c").asText() + b.row().get("c").asText());
    }
    assertTrue(differ.size() > 3, "another spec seed draws other values: " + differ);
  }

  @Test
  void aSubcategoryIsDrawnFromItsParentsList() {
    String steps = """
          - {name: category, kind: sampler, sampler: category, values: [electronics, books]}
          - {name: product_type, kind: sampler, sampler: subcategory, category: category,
             values: {electronics: [phone, laptop], books: [novel, atlas]}}
        """;
    for (int i = 0; i < 50; i++) {
      JsonNode row = row(steps, i);
      Set<String> allowed = row.get("category").asText().equals("books") ? Set.of("novel", "atlas") : Set.of("phone", "laptop");
      assertTrue(allowed.contains(row.get("product_type").asText()), row.toString());
    }
  }

  @Test
  void numbersStayInTheirBoundsAndConvert() {
    double sum = 0;
    int ones = 0;
    double poisson = 0;
    for (int i = 0; i < 1000; i++) {
      JsonNode row = row("""
            - {name: price, kind: sampler, sampler: uniform, low: 5, high: 500, convert_to: int}
            - {name: score, kind: sampler, sampler: uniform, low: 0, high: 1, decimal_places: 2}
            - {name: height, kind: sampler, sampler: gaussian, mean: 170, stddev: 10}
            - {name: flag, kind: sampler, sampler: bernoulli, p: 0.3}
            - {name: heads, kind: sampler, sampler: binomial, params: {n: 6, p: 0.5}}
            - {name: visits, kind: sampler, sampler: poisson, mean: 2.5}
          """, i);
      assertTrue(row.get("price").isIntegralNumber() && row.get("price").asLong() >= 5 && row.get("price").asLong() <= 500, row.toString());
      double score = row.get("score").asDouble();
      assertEquals(Math.round(score * 100) / 100.0, score, 1e-12, "two decimal places");
      sum += row.get("height").asDouble();
      ones += row.get("flag").asInt();
      assertTrue(row.get("flag").asInt() == 0 || row.get("flag").asInt() == 1);
      assertTrue(row.get("heads").asInt() >= 0 && row.get("heads").asInt() <= 6);
      poisson += row.get("visits").asInt();
    }
    assertEquals(170, sum / 1000, 1.5);
    assertEquals(300, ones, 50);
    assertEquals(2.5, poisson / 1000, 0.2);
  }

  @Test
  void uuidsDatetimesAndDeltas() {
    JsonNode row = row("""
          - {name: ticket, kind: sampler, sampler: uuid, prefix: TKT-, short_form: true, uppercase: true}
          - {name: session, kind: sampler, sampler: uuid}
          - {name: opened, kind: sampler, sampler: datetime, start: "2025-05-01", end: "2025-05-31", unit: h}
          - {name: day, kind: sampler, sampler: datetime, start: "2024-01-01", end: "2024-12-31", convert_to: "%d/%m/%Y"}
          - {name: replied, kind: sampler, sampler: timedelta, dt_min: 10, dt_max: 600, unit: m, reference_column_name: opened}
        """, 3);
    assertTrue(row.get("ticket").asText().matches("TKT-[0-9A-F]{8}"), row.toString());
    assertTrue(row.get("session").asText().matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), row.toString());
    LocalDateTime opened = LocalDateTime.parse(row.get("opened").asText());
    assertTrue(row.get("opened").asText().endsWith(":00:00"), "unit h: whole hours, ISO 8601: " + row.get("opened"));
    assertTrue(!opened.isBefore(LocalDateTime.of(2025, 5, 1, 0, 0)) && !opened.isAfter(LocalDateTime.of(2025, 5, 31, 0, 0)));
    assertTrue(row.get("day").asText().matches("\\d\\d/\\d\\d/2024"), row.toString());
    long minutes = java.time.Duration.between(opened, LocalDateTime.parse(row.get("replied").asText())).toMinutes();
    assertTrue(minutes >= 10 && minutes <= 600, "replied = opened + 10..600 minutes: " + row);
  }

  @Test
  void aPersonHasEveryFieldInItsAgeRangeAndSex() {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      JsonNode p = row("  - {name: customer, kind: sampler, sampler: person, locale: en_GB, sex: Female, age_range: [18, 30]}\n", i)
          .get("customer");
      for (String field : new String[] {"first_name", "last_name", "sex", "age", "birth_date", "email", "phone", "city", "state", "occupation"}) {
        assertTrue(p.hasNonNull(field) && !p.get(field).asText().isBlank(), field + " in " + p);
      }
      assertEquals("Female", p.get("sex").asText());
      assertTrue(p.get("age").asInt() >= 18 && p.get("age").asInt() <= 30, p.toString());
      int years = java.time.Period.between(LocalDate.parse(p.get("birth_date").asText()), LocalDate.of(2025, 1, 1)).getYears();
      assertEquals(p.get("age").asInt(), years, "birth date matches the age: " + p);
      names.add(p.get("first_name").asText() + " " + p.get("last_name").asText());
    }
    assertTrue(names.size() > 20, "people differ between records: " + names);
    JsonNode again = row("  - {name: customer, kind: sampler, sampler: person, locale: en_GB, sex: Female, age_range: [18, 30]}\n", 4);
    assertEquals(again, row("  - {name: customer, kind: sampler, sampler: person, locale: en_GB, sex: Female, age_range: [18, 30]}\n", 4));
  }

  @Test
  void theFirstConditionThatHoldsReplacesTheParameters() {
    String steps = """
          - {name: customer, kind: sampler, sampler: person, age_range: [18, 90]}
          - name: style
            kind: sampler
            sampler: category
            values: [brief, detailed, rambling]
            conditional:
              "customer.age >= 65": {values: [detailed]}
        """;
    int old = 0;
    Set<String> young = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      JsonNode row = row(steps, i);
      if (row.at("/customer/age").asInt() >= 65) {
        assertEquals("detailed", row.get("style").asText(), row.toString());
        old++;
      } else {
        young.add(row.get("style").asText());
      }
    }
    assertTrue(old > 10, "some customers are 65 or older");
    assertEquals(Set.of("brief", "detailed", "rambling"), young);
  }

  @Test
  void scipyDistributionsDrawWithScipysParameters() {
    int n = 2000;
    double beta = 0;
    double lognorm = 0;
    int zeros = 0;
    double mixed = 0;
    int geomOnes = 0;
    for (int i = 0; i < n; i++) {
      JsonNode row = row("""
            - {name: csat, kind: sampler, sampler: scipy, dist_name: beta, dist_params: {a: 5, b: 2}, decimal_places: 3}
            - {name: amount, kind: sampler, sampler: scipy, params: {dist_name: lognorm, dist_params: {s: 0.5, scale: 60}}}
            - {name: refund, kind: sampler, sampler: bernoulli_mixture, p: 0.3, dist_name: lognorm, dist_params: {s: 0.5, scale: 60}}
            - {name: tries, kind: sampler, sampler: scipy, dist_name: geom, dist_params: {p: 0.5}}
            - {name: shifted, kind: sampler, sampler: scipy, dist_name: uniform, dist_params: {loc: 10, scale: 5}}
          """, i);
      double c = row.get("csat").asDouble();
      assertTrue(c > 0 && c < 1 && c == Math.round(c * 1000) / 1000.0, row.toString());
      beta += c;
      lognorm += row.get("amount").asDouble();
      double refund = row.get("refund").asDouble();
      if (refund == 0) {
        zeros++;
      } else {
        mixed += refund;
      }
      assertTrue(row.get("tries").asDouble() >= 1, "scipy's geom counts from 1: " + row);
      geomOnes += row.get("tries").asInt() == 1 ? 1 : 0;
      double u = row.get("shifted").asDouble();
      assertTrue(u >= 10 && u < 15, "uniform(loc, scale) is [loc, loc + scale): " + row);
    }
    assertEquals(5.0 / 7, beta / n, 0.02, "beta(5, 2) has mean a / (a + b)");
    assertEquals(60 * Math.exp(0.125), lognorm / n, 3, "lognorm(s, scale) has mean scale * exp(s^2 / 2)");
    assertEquals(0.7 * n, zeros, 0.05 * n, "bernoulli_mixture is 0 with probability 1 - p");
    assertEquals(60 * Math.exp(0.125), mixed / (n - zeros), 6, "and a draw from the distribution otherwise");
    assertEquals(0.5 * n, geomOnes, 0.05 * n);
    assertEquals(value("  - {name: r, kind: sampler, sampler: scipy, dist_name: gamma, dist_params: {a: 2}}\n", 5),
        value("  - {name: r, kind: sampler, sampler: scipy, dist_name: gamma, dist_params: {a: 2}}\n", 5), "deterministic");
  }

  @Test
  void acceptDrawsAgainUntilTheValueMeetsItAgainstANumberOrAnotherStep() {
    String steps = """
          - {name: start, kind: sampler, sampler: uniform, low: 0, high: 60, convert_to: int}
          - {name: end, kind: sampler, sampler: uniform, low: 0, high: 100, convert_to: int, accept: "end > start and end <= 90"}
          - {name: minutes, kind: sampler, sampler: gaussian, mean: 40, stddev: 10, convert_to: int, accept: "minutes >= 35"}
        """;
    boolean redrawn = false;
    for (long i = 0; i < 200; i++) {
      JsonNode row = row(steps, i);
      assertTrue(row.get("end").asInt() > row.get("start").asInt() && row.get("end").asInt() <= 90, row.toString());
      assertTrue(row.get("minutes").asInt() >= 35, row.toString());
      assertEquals(row, row(steps, i), "the same draws each time");
      redrawn |= !row.get("minutes").equals(row("  - {name: minutes, kind: sampler, sampler: gaussian, mean: 40, stddev: 10, convert_to: int}\n",
          i).get("minutes"));
    }
    assertTrue(redrawn, "values that did not meet accept were drawn again");

    RecordRun never = new RecordRun(HEAD + "  - {name: x, kind: sampler, sampler: uniform, low: 0, high: 1, accept: \"x > 2\", max_draws: 50}\n",
        "{}", 0);
    StepPlanner.Fail fail = assertInstanceOf(StepPlanner.Fail.class, never.run(c -> "unused"));
    assertEquals("sampler_rejected", fail.errorType());
    assertTrue(fail.message().contains("no draw of `x` met accept (x > 2) in 50 draws"), fail.message());
  }

  @Test
  void sampledValuesArePersistedOnceAndReadFromTheJournalAfterThat() {
    RecordRun run = new RecordRun(HEAD + "  - {name: price, kind: sampler, sampler: uniform, low: 1, high: 2}\n"
        + "  - {name: ask, model: m, prompt: \"Price {{ price }}\"}\n", "{}", 0);
    StepPlanner.Proceed first = assertInstanceOf(StepPlanner.Proceed.class,
        StepPlanner.next(run.plan, run.input, run.state, Set.of(), Map.of(), 5, 0));
    assertTrue(first.computed().containsKey("price"), "drawn and handed to the entity to persist");
    assertTrue(first.calls().get(0).messages().get(0).content().startsWith("Price 1."));
    // A value already in the journal wins over a new draw (a newer sampler would draw another).
    run.state.apply(new io.skein.protocol.RecordProtocol.ValuesComputed(Map.of("price", new com.fasterxml.jackson.databind.node.DoubleNode(9.5)),
        java.util.List.of(), 3));
    StepPlanner.Proceed after = assertInstanceOf(StepPlanner.Proceed.class,
        StepPlanner.next(run.plan, run.input, run.state, Set.of(), Map.of(), 5, 0));
    assertEquals(Map.of(), after.computed(), "nothing left to compute");
    assertEquals("Price 9.5", after.calls().get(0).messages().get(0).content());
    assertNotEquals(first.calls().get(0).messages(), after.calls().get(0).messages());
  }
}
