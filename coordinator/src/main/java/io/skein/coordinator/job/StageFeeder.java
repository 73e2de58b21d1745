package io.skein.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.store.FeedSpec;
import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.StageStore.FeedState;
import io.skein.worker.entity.RecordSource.UnknownJobException;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.plan.PipelinePlan;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Moves a streaming stage's feed for its coordinator: a stage of stored inputs waits for its setup
 * (the gate); a stage of a source stage makes records of the source's newly landed rows. The values
 * a filter may read besides the row ({@code setup}, {@code files}) are loaded with the stage.
 */
public final class StageFeeder {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final JobStore store;

  public StageFeeder(JobStore store) {
    this.store = store;
  }

  /** Moves the feed of stage {@code stageId} by up to {@code maxRows} source rows; answers where it stands. */
  public CompletionStage<FeedState> feed(String stageId, int maxRows) {
    return store.job(stageId).thenCompose(found -> {
      JobInfo job = found.orElseThrow(() -> new UnknownJobException("no job " + stageId));
      if (job.stage() == null) {
        throw new IllegalStateException("job " + stageId + " is not a stage");
      }
      FeedSpec spec = FeedSpec.parse(job.stage().feed());
      if (spec.fromInput()) {
        return store.stages().gate(stageId, spec.setup());
      }
      Map<String, Object> extra = new LinkedHashMap<>(SpecParser.parse(SpecParser.readTree(job.spec())).files());
      CompletionStage<Map<String, Object>> values = spec.setup() == null || spec.fromSetup()
          ? CompletableFuture.completedFuture(extra)
          : setupValues(spec.setup()).thenApply(setup -> {
            extra.put(PipelinePlan.SETUP, setup);
            return extra;
          });
      return values.thenCompose(filterValues -> store.stages().feed(stageId, spec.source(), maxRows,
          rows -> StageFeed.apply(spec, rows, filterValues)));
    });
  }

  /** The setup row's values, as templates read them ({@code setup.<field>}); empty if it has none. */
  public CompletionStage<Map<String, Object>> setupValues(String setupId) {
    return store.stages().setupRow(setupId).thenApply(row -> {
      if (row.isEmpty() || !row.get().ok()) {
        return Map.of();
      }
      try {
        JsonNode node = JSON.readTree(row.get().row());
        return StageFeed.plain(node);
      } catch (Exception e) {
        throw new IllegalStateException("corrupt setup row of " + setupId + ": " + e.getMessage(), e);
      }
    });
  }
}
