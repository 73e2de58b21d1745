package io.skein.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.protocol.spec.DedupeSpec;
import io.skein.worker.dedupe.Deduper.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** dedupe against the shared database, on H2 and (when available) PostgreSQL: one of near-duplicates checked at once is accepted. */
class JdbcDeduperTest {

  static final DedupeSpec NEAR = new DedupeSpec("q", DedupeSpec.MINHASH, 0.8);

  static final List<String> TOPICS = List.of(
      "explain in plain words how the tides of the northern sea follow the moon and the sun over a month",
      "describe how a sourdough starter is fed and kept alive through a cold winter in a small kitchen",
      "tell me why the sky turns red at sunset over the desert and what dust in the air has to do with it",
      "compare the ways trains and ferries carry passengers between islands during the summer storm season",
      "show how a beginner should plan a vegetable garden on a narrow balcony that gets afternoon sun only",
      "walk through the steps of replacing a flat bicycle tyre on a mountain trail without any spare tube",
      "outline what a small library needs to lend laptops to students safely over the long school holidays",
      "list the reasons old stone bridges in river valleys have lasted for centuries while newer ones crack",
      "advise a new manager on running a weekly meeting that ends on time and leaves everyone with a task",
      "teach a child the difference between weather and climate using the seasons of their own town");

  static String question(int topic, int variant) {
    return "Please " + TOPICS.get(topic) + (variant == 0 ? "." : ", thanks.");
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void nearDuplicatesCheckedTogetherLeaveOneAcceptedEach(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      JobStore store = new JobStore(db);
      db.transaction(c -> {
        store.insertJob(c, new JobInfo("d1", "t", "{}", List.of(), "fp", true, 40, 10, JobState.RUNNING, null, Counts.ZERO, 0, 1, 1, null, null));
        return null;
      });
      JdbcDeduper dedupe = new JdbcDeduper(db);
      // 10 topics, 4 near-identical questions each, all checked at once.
      List<CompletableFuture<Verdict>> verdicts = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        verdicts.add(dedupe.check("d1", i, NEAR, question(i % 10, i / 10 % 2)).toCompletableFuture());
      }
      int unique = 0;
      for (int i = 0; i < 40; i++) {
        Verdict v = verdicts.get(i).get(30, TimeUnit.SECONDS);
        if (v.unique()) {
          unique++;
        } else {
          assertEquals(i % 10, v.of() % 10, "a duplicate of a question on the same topic: " + i + " " + v);
          assertTrue(v.similarity() >= 0.8, v.toString());
        }
      }
      assertEquals(10, unique, "one question a topic is accepted");
      assertEquals(30L, store.duplicates("d1").toCompletableFuture().get(10, TimeUnit.SECONDS));

      for (int i = 0; i < 40; i++) {
        assertEquals(verdicts.get(i).get(), dedupe.check("d1", i, NEAR, "whatever text now").toCompletableFuture().get(10, TimeUnit.SECONDS),
            "a record checked again (after a crash) gets the verdict it had");
      }
      assertTrue(dedupe.check("d1", 40, NEAR, "A different question about bread and ovens altogether, with nothing in common")
          .toCompletableFuture().get(10, TimeUnit.SECONDS).unique());
      DedupeSpec exact = new DedupeSpec("q", DedupeSpec.EXACT, 1.0);
      assertTrue(dedupe.check("d2", 0, exact, "Same Words!").toCompletableFuture().get(10, TimeUnit.SECONDS).unique());
      Verdict same = dedupe.check("d2", 1, exact, "same   words").toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertFalse(same.unique());
      assertEquals(0, same.of());
      assertTrue(dedupe.check("d2", 2, exact, "same words, again").toCompletableFuture().get(10, TimeUnit.SECONDS).unique());
    }
  }
}
