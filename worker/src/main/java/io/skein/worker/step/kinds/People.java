package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.worker.step.Json;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import net.datafaker.Faker;

/**
 * The {@code person} sampler: a locale-aware person from Datafaker (first and last name matching
 * the sex, age and birth date, email, phone, city, state, occupation), drawn from the sample's
 * seed. A Faker per thread and locale is reseeded for each person: building one reads its
 * locale's files, so it is kept.
 */
final class People {

  private static final ThreadLocal<Map<String, Seeded>> FAKERS = ThreadLocal.withInitial(HashMap::new);

  private record Seeded(Faker faker, Random random) {}

  /** The date ages are counted from, so a person drawn today and next year is the same person. */
  static final LocalDate AS_OF = LocalDate.of(2025, 1, 1);

  private People() {}

  static JsonNode draw(JsonNode p, SplittableRandom random) {
    String locale = p.path("locale").asText("en_US");
    Seeded seeded = FAKERS.get().computeIfAbsent(locale, l -> {
      Random r = new Random(0);
      return new Seeded(new Faker(Locale.forLanguageTag(l.replace('_', '-')), r), r);
    });
    seeded.random().setSeed(random.nextLong());
    Faker f = seeded.faker();
    String sex = p.path("sex").asText("");
    if (sex.isEmpty()) {
      sex = random.nextBoolean() ? "Female" : "Male";
    }
    int minAge = p.path("age_range").path(0).asInt(18);
    int maxAge = p.path("age_range").path(1).asInt(90);
    int age = minAge + random.nextInt(maxAge - minAge + 1);
    LocalDate birth = AS_OF.minusYears(age).minusDays(1 + random.nextInt(365));
    String first = firstName(f, sex);
    String last = f.name().lastName();
    ObjectNode person = Json.MAPPER.createObjectNode();
    person.put("first_name", first);
    person.put("last_name", last);
    person.put("sex", sex);
    person.put("age", age);
    person.put("birth_date", birth.toString());
    person.put("email", f.internet().emailAddress((first + "." + last).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]", "")));
    person.put("phone", f.phoneNumber().cellPhone());
    person.put("city", f.address().city());
    person.put("state", f.address().state());
    person.put("occupation", f.job().title());
    return person;
  }

  private static String firstName(Faker f, String sex) {
    try {
      return sex.equals("Female") ? f.name().femaleFirstName() : f.name().malefirstName();
    } catch (RuntimeException noSexedNames) {
      return f.name().firstName();
    }
  }
}
