package io.skein.coordinator.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.entity.RecordContext;
import io.skein.worker.entity.RecordInput;
import io.skein.worker.entity.RecordSource;
import io.skein.worker.plan.PipelinePlan;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Gives records their context from the database, cached per node: a job's compiled plan once, and
 * inputs in blocks of consecutive indexes (records of a job are dispatched in index order, so one
 * query serves a block's worth of records). Both caches are small LRUs: memory follows the
 * in-flight window, not the job's size.
 */
public final class JdbcRecordSource implements RecordSource {

  private static final ObjectMapper JSON = new ObjectMapper();
  static final int BLOCK = 256;

  /** {@code extra}: values every record's templates read besides its fields (the spec's files, a stage's setup row). */
  private record Job(PipelinePlan plan, boolean generated, long total, Map<String, Object> extra, String tenant) {}

  private record BlockKey(String jobId, long block) {}

  private final JobStore store;
  private final Map<String, CompletableFuture<Job>> jobs = lru(64);
  private final Map<BlockKey, CompletableFuture<Map<Long, RecordInput>>> blocks = lru(128);

  public JdbcRecordSource(JobStore store) {
    this.store = store;
  }

  @Override
  public CompletionStage<RecordContext> load(String jobId, long index) {
    return job(jobId).thenCompose(job -> {
      if (index < 0 || (job.generated() && index >= job.total())) {
        throw new UnknownJobException("job " + jobId + " has no record " + index);
      }
      if (job.generated()) {
        return CompletableFuture.completedFuture(
            new RecordContext(job.plan(), RecordInput.of(index, JsonNodeFactory.instance.objectNode()).withValues(job.extra()), job.tenant()));
      }
      return block(jobId, index / BLOCK).thenCompose(inputs -> inputs.containsKey(index)
          ? CompletableFuture.completedFuture(inputs)
          : reload(jobId, index / BLOCK)).thenApply(inputs -> {
            RecordInput input = inputs.get(index);
            if (input == null) {
              throw new UnknownJobException("job " + jobId + " has no stored input " + index);
            }
            return new RecordContext(job.plan(), input.withValues(job.extra()), job.tenant());
          });
    });
  }

  /** Forgets a job's cached plan and inputs, e.g. once it has ended. */
  public void evict(String jobId) {
    synchronized (jobs) {
      jobs.remove(jobId);
    }
    synchronized (blocks) {
      blocks.keySet().removeIf(k -> k.jobId().equals(jobId));
    }
  }

  private CompletableFuture<Job> job(String jobId) {
    CompletableFuture<Job> f;
    synchronized (jobs) {
      f = jobs.get(jobId);
      if (f == null) {
        f = store.job(jobId).thenCombine(store.owner(jobId), (found, owner) -> {
          String tenant = owner.map(JobStore.Owner::tenant).orElse(null);
          JobInfo info = found.orElseThrow(() -> new UnknownJobException("no job " + jobId));
          PipelinePlan plan = PipelinePlan.compile(SpecParser.parse(SpecParser.readTree(info.spec())), info.fields());
          Map<String, Object> extra = new HashMap<>();
          if (!plan.spec().files().isEmpty()) {
            extra.put(PipelinePlan.FILES, Map.copyOf(plan.spec().files()));
          }
          String setup = info.stage() == null ? null : FeedSpec.parse(info.stage().feed()).setup();
          if (setup == null) {
            return CompletableFuture.completedFuture(new Job(plan, info.generated(), info.total(), extra, tenant));
          }
          return store.stages().setupValues(setup).thenApply(values -> {
            // Records of a stage after the setup run once it has ended well; the row is there.
            extra.put(PipelinePlan.SETUP, values.orElse(Map.of()));
            return new Job(plan, info.generated(), info.total(), extra, tenant);
          });
        }).thenCompose(job -> job).toCompletableFuture();
        jobs.put(jobId, f);
      }
    }
    CompletableFuture<Job> loaded = f;
    loaded.whenComplete((ok, error) -> {
      if (error != null) {
        synchronized (jobs) {
          jobs.remove(jobId, loaded);
        }
      }
    });
    return loaded;
  }

  /** A block read before all its records were stored (a stage's records are made while it runs): read it again. */
  private CompletableFuture<Map<Long, RecordInput>> reload(String jobId, long block) {
    synchronized (blocks) {
      blocks.remove(new BlockKey(jobId, block));
    }
    return block(jobId, block);
  }

  private CompletableFuture<Map<Long, RecordInput>> block(String jobId, long block) {
    BlockKey key = new BlockKey(jobId, block);
    CompletableFuture<Map<Long, RecordInput>> f;
    synchronized (blocks) {
      f = blocks.get(key);
      if (f == null) {
        f = store.inputs(jobId, block * BLOCK, (block + 1) * BLOCK).thenApply(JdbcRecordSource::parse).toCompletableFuture();
        blocks.put(key, f);
      }
    }
    CompletableFuture<Map<Long, RecordInput>> loaded = f;
    loaded.whenComplete((ok, error) -> {
      if (error != null) {
        synchronized (blocks) {
          blocks.remove(key, loaded);
        }
      }
    });
    return loaded;
  }

  private static Map<Long, RecordInput> parse(List<JobStore.InputRow> rows) {
    Map<Long, RecordInput> out = new HashMap<>();
    for (JobStore.InputRow row : rows) {
      if (row.error() != null && row.record() == null) {
        out.put(row.index(), RecordInput.invalid(row.index(), row.error()));
      } else {
        try {
          JsonNode node = JSON.readTree(row.record());
          out.put(row.index(), row.error() != null ? RecordInput.invalid(row.index(), node, row.error()) : RecordInput.of(row.index(), node));
        } catch (Exception e) {
          out.put(row.index(), RecordInput.invalid(row.index(), "stored input is not JSON: " + e.getMessage()));
        }
      }
    }
    return out;
  }

  private static <K, V> Map<K, V> lru(int max) {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > max;
      }
    };
  }
}
