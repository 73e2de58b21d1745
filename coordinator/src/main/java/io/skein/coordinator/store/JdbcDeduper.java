package io.skein.coordinator.store;

import io.skein.protocol.spec.DedupeSpec;
import io.skein.worker.dedupe.Deduper;
import io.skein.worker.dedupe.MinHash;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * {@code dedupe:} against the database every node shares: in one transaction that holds the job's
 * row, a record's text is compared with the accepted texts that share a band hash with it
 * ({@link MinHash}; for {@code exact}, the one hash of the normalized text), and accepted (its
 * signature and band hashes stored) or found a duplicate (its verdict stored). Holding the job's row
 * makes checks of one job take turns across the cluster, so of two near-duplicates checked at once
 * one is accepted. A record checked again gets its stored verdict.
 */
public final class JdbcDeduper implements Deduper {

  private final SkeinDb db;

  public JdbcDeduper(SkeinDb db) {
    this.db = db;
  }

  @Override
  public CompletionStage<Verdict> check(String jobId, long index, DedupeSpec spec, String text) {
    return db.asyncTransaction(c -> {
      lockJob(c, jobId);
      Verdict earlier = earlier(c, jobId, index);
      if (earlier != null) {
        return earlier;
      }
      boolean exact = spec.method().equals(DedupeSpec.EXACT);
      long[] signature = exact ? new long[] {MinHash.exact(text)} : MinHash.signature(text);
      List<Long> bands = exact ? List.of(signature[0]) : MinHash.bands(signature, MinHash.rowsPerBand(spec.threshold()));
      Verdict verdict = Verdict.UNIQUE;
      for (long candidate : candidates(c, jobId, bands)) {
        double similarity = exact ? 1.0 : MinHash.similarity(signature, signatureOf(c, jobId, candidate));
        if (similarity >= spec.threshold() && similarity > verdict.similarity()) {
          verdict = new Verdict(false, candidate, similarity);
        }
      }
      store(c, jobId, index, signature, verdict, bands);
      return verdict;
    });
  }

  private static void lockJob(Connection c, String jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT id FROM skein_jobs WHERE id = ? FOR UPDATE")) {
      ps.setString(1, jobId);
      ps.executeQuery().close();
    }
  }

  private static Verdict earlier(Connection c, String jobId, long index) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT duplicate_of, similarity FROM skein_dedupe WHERE job_id = ? AND idx = ?")) {
      ps.setString(1, jobId);
      ps.setLong(2, index);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        long of = rs.getLong(1);
        return rs.wasNull() ? Verdict.UNIQUE : new Verdict(false, of, rs.getDouble(2));
      }
    }
  }

  private static Set<Long> candidates(Connection c, String jobId, List<Long> bands) throws SQLException {
    Set<Long> out = new LinkedHashSet<>();
    String marks = bands.stream().map(b -> "?").collect(Collectors.joining(", "));
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT DISTINCT idx FROM skein_dedupe_bands WHERE job_id = ? AND band_hash IN (" + marks + ") ORDER BY idx")) {
      ps.setString(1, jobId);
      for (int i = 0; i < bands.size(); i++) {
        ps.setLong(i + 2, bands.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
      }
    }
    return out;
  }

  private static long[] signatureOf(Connection c, String jobId, long index) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT signature FROM skein_dedupe WHERE job_id = ? AND idx = ?")) {
      ps.setString(1, jobId);
      ps.setLong(2, index);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return Arrays.stream(rs.getString(1).split(",")).mapToLong(Long::parseLong).toArray();
      }
    }
  }

  private static void store(Connection c, String jobId, long index, long[] signature, Verdict verdict, List<Long> bands)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO skein_dedupe (job_id, idx, signature, duplicate_of, similarity) VALUES (?, ?, ?, ?, ?)")) {
      ps.setString(1, jobId);
      ps.setLong(2, index);
      ps.setString(3, Arrays.stream(signature).mapToObj(Long::toString).collect(Collectors.joining(",")));
      if (verdict.unique()) {
        ps.setNull(4, java.sql.Types.BIGINT);
        ps.setNull(5, java.sql.Types.DOUBLE);
      } else {
        ps.setLong(4, verdict.of());
        ps.setDouble(5, verdict.similarity());
      }
      ps.executeUpdate();
    }
    if (!verdict.unique()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO skein_dedupe_bands (job_id, band_hash, idx) VALUES (?, ?, ?)")) {
      for (long band : new LinkedHashSet<>(bands)) {
        ps.setString(1, jobId);
        ps.setLong(2, band);
        ps.setLong(3, index);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }
}
