package io.skein.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.protocol.Usage;
import io.skein.worker.gateway.ModelOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The response cache table, on H2 and (when available) PostgreSQL. */
class JdbcResponseCacheTest {

  private static Optional<ModelOutcome.Ok> get(JdbcResponseCache cache, String key) throws Exception {
    return cache.get(key).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void answersAreKeptOncePerKeyAndComeBackMarkedCached(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind); JdbcResponseCache cache = new JdbcResponseCache(db)) {
      assertEquals(Optional.empty(), get(cache, "k1"));
      cache.put("k1", new ModelOutcome.Ok("first answer", "stop", new Usage(12, 5), 80));
      cache.put("k1", new ModelOutcome.Ok("first answer", "stop", new Usage(12, 5), 90));
      cache.put("k2", new ModelOutcome.Ok("cut short", "length", new Usage(3, 40), 70));
      // Writes are asynchronous: wait until they are visible.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (get(cache, "k2").isEmpty()) {
        assertTrue(System.nanoTime() < deadline, "the answers were never kept");
        Thread.sleep(10);
      }
      ModelOutcome.Ok one = get(cache, "k1").orElseThrow();
      assertEquals("first answer", one.text());
      assertEquals("stop", one.finishReason());
      assertEquals(new Usage(12, 5), one.usage());
      assertTrue(one.cached());
      assertEquals("length", get(cache, "k2").orElseThrow().finishReason());
      assertEquals(2L, (long) db.sync(c -> {
        try (var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM skein_cache")) {
          rs.next();
          return rs.getLong(1);
        }
      }), "one row per key, whatever was kept twice");

      // Many lookups at once share queries and each gets its own answer.
      List<CompletableFuture<Optional<ModelOutcome.Ok>>> many = new ArrayList<>();
      for (int i = 0; i < 1200; i++) {
        many.add(cache.get(i % 3 == 0 ? "k1" : i % 3 == 1 ? "k2" : "missing-" + i).toCompletableFuture());
      }
      for (int i = 0; i < many.size(); i++) {
        Optional<ModelOutcome.Ok> answer = many.get(i).get(10, TimeUnit.SECONDS);
        switch (i % 3) {
          case 0 -> assertEquals("first answer", answer.orElseThrow().text());
          case 1 -> assertEquals("cut short", answer.orElseThrow().text());
          default -> assertEquals(Optional.empty(), answer);
        }
      }
    }
  }
}
