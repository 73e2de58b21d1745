package io.skein.coordinator.store;

import io.skein.protocol.Usage;
import io.skein.worker.gateway.ModelOutcome;
import io.skein.worker.gateway.ResponseCache;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The response cache in the {@code skein_cache} table, shared by every node on the database.
 * Lookups and writes are batched, each on a thread of its own: the lookups that arrive while one
 * query runs share the next ({@code WHERE cache_key IN (...)}), so a job that finds nothing in the
 * cache costs one small query per batch, not per call. A failing lookup answers empty; a failing
 * write is dropped (the call's answer is in its record's journal either way).
 */
public final class JdbcResponseCache implements ResponseCache, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(JdbcResponseCache.class);
  private static final int MAX_BATCH = 500;

  private record Lookup(String key, CompletableFuture<Optional<ModelOutcome.Ok>> answer) {}

  private record Write(String key, ModelOutcome.Ok answer) {}

  private final SkeinDb db;
  private final BatchingThread<Lookup> reader;
  private final BatchingThread<Write> writer;

  private final io.micrometer.core.instrument.DistributionSummary lookups;
  private final io.micrometer.core.instrument.DistributionSummary writes;

  public JdbcResponseCache(SkeinDb db) {
    this(db, new io.micrometer.core.instrument.composite.CompositeMeterRegistry());
  }

  /** As above, with the keys per query in {@code skein_cache_batch_keys{op=lookup|write}}. */
  public JdbcResponseCache(SkeinDb db, io.micrometer.core.instrument.MeterRegistry registry) {
    this.db = db;
    this.lookups = batchSizes(registry, "lookup");
    this.writes = batchSizes(registry, "write");
    this.reader = new BatchingThread<>("skein-cache-reader", MAX_BATCH, this::answer, (batch, error) -> {
      log.error("response cache lookup failed, asking the providers instead", error);
      batch.forEach(l -> l.answer().complete(Optional.empty()));
    });
    this.writer = new BatchingThread<>("skein-cache-writer", MAX_BATCH, this::keep,
        (batch, error) -> log.error("could not keep {} answers in the response cache", batch.size(), error));
  }

  private static io.micrometer.core.instrument.DistributionSummary batchSizes(io.micrometer.core.instrument.MeterRegistry registry,
      String op) {
    return io.micrometer.core.instrument.DistributionSummary.builder("skein.cache.batch").baseUnit("keys")
        .description("Response cache keys per database round trip, looked up or written").tag("op", op).register(registry);
  }

  @Override
  public CompletionStage<Optional<ModelOutcome.Ok>> get(String key) {
    CompletableFuture<Optional<ModelOutcome.Ok>> answer = new CompletableFuture<>();
    if (!reader.add(new Lookup(key, answer))) {
      answer.complete(Optional.empty());
    }
    return answer;
  }

  @Override
  public void put(String key, ModelOutcome.Ok answer) {
    writer.add(new Write(key, answer));
  }

  private void answer(List<Lookup> batch) {
    lookups.record(batch.size());
    Map<String, ModelOutcome.Ok> found;
    try {
      found = find(batch);
    } catch (RuntimeException e) {
      log.warn("response cache lookup failed, asking the providers instead: {}", e.getMessage());
      found = Map.of();
    }
    for (Lookup l : batch) {
      l.answer().complete(Optional.ofNullable(found.get(l.key())));
    }
  }

  private Map<String, ModelOutcome.Ok> find(List<Lookup> batch) {
    List<String> keys = batch.stream().map(Lookup::key).distinct().toList();
    return db.sync(c -> {
      Map<String, ModelOutcome.Ok> out = new HashMap<>();
      String marks = String.join(", ", java.util.Collections.nCopies(keys.size(), "?"));
      try (PreparedStatement ps = c.prepareStatement("SELECT cache_key, response, finish_reason, prompt_tokens, completion_tokens"
          + " FROM skein_cache WHERE cache_key IN (" + marks + ")")) {
        for (int i = 0; i < keys.size(); i++) {
          ps.setString(i + 1, keys.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), new ModelOutcome.Ok(rs.getString(2), rs.getString(3), new Usage(rs.getLong(4), rs.getLong(5)), 0, true));
          }
        }
      }
      return out;
    });
  }

  private void keep(List<Write> batch) {
    writes.record(batch.size());
    try {
      store(batch);
    } catch (RuntimeException e) {
      log.warn("could not keep {} answers in the response cache: {}", batch.size(), e.getMessage());
    }
  }

  private void store(List<Write> batch) {
    String sql = db.dialect() == SkeinDb.Dialect.POSTGRES
        ? "INSERT INTO skein_cache (cache_key, response, finish_reason, prompt_tokens, completion_tokens, created_at)"
            + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        : "MERGE INTO skein_cache (cache_key, response, finish_reason, prompt_tokens, completion_tokens, created_at)"
            + " KEY (cache_key) VALUES (?, ?, ?, ?, ?, ?)";
    long now = System.currentTimeMillis();
    db.sync(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (Write w : batch) {
          ps.setString(1, w.key());
          ps.setString(2, w.answer().text());
          ps.setString(3, w.answer().finishReason());
          ps.setLong(4, w.answer().usage().promptTokens());
          ps.setLong(5, w.answer().usage().completionTokens());
          ps.setLong(6, now);
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  @Override
  public void close() {
    reader.close();
    writer.close();
  }
}
