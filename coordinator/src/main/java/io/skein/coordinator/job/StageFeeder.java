package io.skein.coordinator.job;

import io.skein.coordinator.store.FeedSpec;
import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.StageStore.FeedState;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.entity.RecordSource.UnknownJobException;
import io.skein.worker.plan.PipelinePlan;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Moves a streaming stage's feed for its coordinator: a stage of stored inputs waits for its setup
 * (the gate); a stage of a source stage makes records of the source's newly landed rows. What a
 * stage feeds by (its {@link FeedSpec}, and the values a filter may read besides the row:
 * {@code setup}, {@code files}) is read once per stage, not on every tick.
 */
public final class StageFeeder {

  /** How a stage feeds: its feed spec, and the values its filter reads besides the row. */
  private record Feeding(FeedSpec spec, Map<String, Object> filterValues) {}

  private final JobStore store;
  /** By stage id; a few dozen stages feed on one node at a time, so a small LRU. */
  private final Map<String, Feeding> feeding = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Feeding> eldest) {
      return size() > 64;
    }
  };

  public StageFeeder(JobStore store) {
    this.store = store;
  }

  /** Moves the feed of stage {@code stageId} by up to {@code maxRows} source rows; answers where it stands. */
  public CompletionStage<FeedState> feed(String stageId, int maxRows) {
    return feeding(stageId).thenCompose(f -> f.spec().fromInput()
        ? store.stages().gate(stageId, f.spec().setup())
        : store.stages().feed(stageId, f.spec().source(), maxRows, rows -> StageFeed.apply(f.spec(), rows, f.filterValues())))
        .whenComplete((at, error) -> {
          if (at != null && at.closed()) {
            forget(stageId);
          }
        });
  }

  private CompletionStage<Feeding> feeding(String stageId) {
    synchronized (feeding) {
      Feeding known = feeding.get(stageId);
      if (known != null) {
        return CompletableFuture.completedFuture(known);
      }
    }
    return store.job(stageId).thenCompose(found -> {
      JobInfo job = found.orElseThrow(() -> new UnknownJobException("no job " + stageId));
      if (job.stage() == null) {
        throw new IllegalStateException("job " + stageId + " is not a stage");
      }
      FeedSpec spec = FeedSpec.parse(job.stage().feed());
      Map<String, Object> values = new LinkedHashMap<>();
      Map<String, String> files = SpecParser.parse(SpecParser.readTree(job.spec())).files();
      if (!files.isEmpty()) {
        values.put(PipelinePlan.FILES, Map.copyOf(files));
      }
      if (spec.fromInput() || spec.setup() == null || spec.fromSetup()) {
        return CompletableFuture.completedFuture(remember(stageId, new Feeding(spec, values)));
      }
      // The source's rows come after the setup row, so once there are rows to feed it is there;
      // until it is, nothing is remembered and the next tick reads it again.
      return store.stages().setupValues(spec.setup()).thenApply(setup -> {
        values.put(PipelinePlan.SETUP, setup.orElse(Map.of()));
        Feeding f = new Feeding(spec, values);
        return setup.isPresent() ? remember(stageId, f) : f;
      });
    });
  }

  private Feeding remember(String stageId, Feeding f) {
    synchronized (feeding) {
      feeding.put(stageId, f);
    }
    return f;
  }

  private void forget(String stageId) {
    synchronized (feeding) {
      feeding.remove(stageId);
    }
  }
}
