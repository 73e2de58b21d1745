package io.skein.coordinator.job;

import io.skein.coordinator.store.InputTable;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.coordinator.store.SkeinDb;
import io.skein.protocol.spec.SpecException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Stores a submission's input rows as they are read, in batches each committed on its own, so an
 * upload of any size needs neither one huge transaction nor the node's memory: a batch holds at most
 * {@value #BATCH_ROWS} rows or about {@value #BATCH_CHARS} characters of records. The job's row is
 * inserted only after every input is stored (by the caller, who calls {@link #stored} in the job
 * row's transaction), so a half-stored upload is never a job; when anything fails first,
 * {@link #deleteAll} removes what was stored. A node killed part-way leaves its job id in
 * {@code skein_uploads}, and the retention sweep removes those rows later.
 *
 * <p>A repeated record id is found by the database (a unique index on each row's id hash): only when
 * a batch is refused are its ids looked up, to name the two records, as {@link RecordIds#checked} does.
 */
final class InputWriter {

  static final int BATCH_ROWS = 10_000;
  static final long BATCH_CHARS = 8L << 20;

  private final JobStore store;
  private final long maxRecords;
  /** Each job id written to, with one past the highest index tried: what {@link #deleteAll} removes. */
  private final Map<String, Long> written = new LinkedHashMap<>();

  InputWriter(JobStore store, long maxRecords) {
    this.store = store;
    this.maxRecords = maxRecords;
  }

  /** Stores every row as job {@code jobId}'s inputs; how many. Throws {@link SpecException} at a repeated id or past the limit. */
  long write(String jobId, Iterator<InputRow> rows) {
    long total = 0;
    long chars = 0;
    List<InputRow> batch = new ArrayList<>();
    while (rows.hasNext()) {
      InputRow row = rows.next();
      if (++total > maxRecords) {
        throw tooMany(maxRecords, "the records sent", "more than " + maxRecords);
      }
      batch.add(row);
      chars += row.record() == null ? 0 : row.record().length();
      if (batch.size() == BATCH_ROWS || chars >= BATCH_CHARS) {
        commit(jobId, batch);
        batch.clear();
        chars = 0;
      }
    }
    commit(jobId, batch);
    return total;
  }

  /** In the transaction that inserts the job's row (or rows): the inputs stored are the job's for good. */
  void stored(java.sql.Connection c) throws java.sql.SQLException {
    InputTable.finished(c, written.keySet());
  }

  /** Removes every row this writer stored (or tried to), a slice at a time; a failure here is added to {@code cause}. */
  void deleteAll(Throwable cause) {
    written.forEach((jobId, upto) -> {
      try {
        InputTable.delete(store.db(), jobId, upto);
        store.db().sync(c -> {
          InputTable.finished(c, List.of(jobId));
          return null;
        });
      } catch (RuntimeException e) {
        cause.addSuppressed(e);
      }
    });
  }

  static SpecException tooMany(long maxRecords, String what, String count) {
    return new SpecException(what.startsWith("input.") ? what : "records", count + " records: this server takes at most " + maxRecords
        + " per job (skein.job.max-records); split the job, or raise the limit");
  }

  private void commit(String jobId, List<InputRow> batch) {
    if (batch.isEmpty()) {
      return;
    }
    boolean first = !written.containsKey(jobId);
    written.merge(jobId, batch.get(batch.size() - 1).index() + 1, Math::max);
    List<String> hashes = batch.stream().map(r -> RecordIds.hash(r.record())).toList();
    try {
      store.db().transaction(c -> {
        if (first) {
          InputTable.begin(c, jobId, System.currentTimeMillis());
        }
        InputTable.insert(c, jobId, batch, hashes);
        return null;
      });
    } catch (SkeinDb.StoreException e) {
      if (InputTable.isUniqueViolation(e)) {
        throw repeated(jobId, batch, hashes).orElseThrow(() -> e);
      }
      throw e;
    }
  }

  /** The first record of the batch whose id an earlier record has (stored before, or earlier in the batch), as the error to answer. */
  private Optional<SpecException> repeated(String jobId, List<InputRow> batch, List<String> hashes) {
    List<String> distinct = hashes.stream().filter(java.util.Objects::nonNull).distinct().toList();
    Map<String, Long> stored = store.db().sync(c -> InputTable.indexesOf(c, jobId, distinct));
    Map<String, Long> inBatch = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      String hash = hashes.get(i);
      if (hash == null) {
        continue;
      }
      InputRow row = batch.get(i);
      Long first = stored.containsKey(hash) ? stored.get(hash) : inBatch.putIfAbsent(hash, row.index());
      if (first != null) {
        return Optional.of(RecordIds.duplicate(first, row.index(), RecordIds.text(row.record())));
      }
    }
    return Optional.empty();
  }
}
