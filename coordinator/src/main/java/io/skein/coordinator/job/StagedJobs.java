package io.skein.coordinator.job;

import io.skein.coordinator.store.FeedSpec;
import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobStore;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.Stages;
import io.skein.protocol.spec.Stages.Stage;
import io.skein.protocol.spec.Stages.Staged;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Submitting a staged spec: one row for the job (its whole spec; its counts are its stages' sums),
 * one row per stage (the stage's own one-stage spec, the fields its records carry and where they
 * come from), the first stage's records as its inputs, and each stage's feed mark. The records are
 * stored first, batch by batch ({@link InputWriter}); the rows of the job and its stages then go in
 * one transaction. Stage {@code s} of job {@code j} is job {@code j.s}: records are {@code j.s/<index>}.
 */
final class StagedJobs {

  private StagedJobs() {}

  /** The job id of a staged job's stage. */
  static String stageId(String jobId, String stage) {
    return jobId + "." + stage;
  }

  /** The staged job a stage's job id belongs to; null for a job of one stage (job ids have no dot). */
  static String parentOf(String jobId) {
    int dot = jobId.lastIndexOf('.');
    return dot > 0 ? jobId.substring(0, dot) : null;
  }

  static JobInfo insert(JobStore store, String id, JobService.Submission submission, Set<String> fields, JobService jobs,
      InputWriter writer) {
    Staged staged = Stages.read(submission.spec());
    staged.stages().forEach(s -> jobs.checkModels(s.spec()));
    Map<String, JobService.Stored> stored = new HashMap<>();
    for (Stage stage : staged.stages()) {
      if (stage.feed().fromInput()) {
        stored.put(stage.name(), stage.isSetup() ? new JobService.Stored(true, 1)
            : jobs.storeInputs(writer, stageId(id, stage.name()), submission, stage.spec(), fields));
      }
    }
    List<StagePlans.Planned> planned = StagePlans.compile(staged, fields);
    return store.db().transaction(c -> {
      JobInfo job = insertRows(c, store, id, submission, fields, jobs, staged, planned, stored);
      if (submission.tenant() != null) {
        store.setTenant(c, id, submission.tenant());
      }
      writer.stored(c);
      return job;
    });
  }

  private static JobInfo insertRows(Connection c, JobStore store, String id, JobService.Submission submission, Set<String> fields,
      JobService jobs, Staged staged, List<StagePlans.Planned> planned, Map<String, JobService.Stored> stored) throws SQLException {
    String setupId = staged.hasSetup() ? stageId(id, Stages.SETUP) : null;
    JobInfo job = jobs.newJob(id, planned.get(0).stage().spec(), SpecParser.toJson(SpecParser.withoutInlineRecords(submission.spec())),
        fields, submission.fingerprint(), new JobService.Stored(false, 0), null).withName(staged.name());
    store.insertJob(c, job);
    for (int i = 0; i < planned.size(); i++) {
      StagePlans.Planned p = planned.get(i);
      Stage stage = p.stage();
      Stages.Feed feed = stage.feed();
      String own = stageId(id, stage.name());
      FeedSpec spec = new FeedSpec(i, feed.fromInput() ? null : stageId(id, feed.source()), stage.isSetup() ? null : setupId,
          feed.explode() == null ? null : feed.explode().path(), feed.explode() == null ? null : feed.explode().as(), feed.filter());
      JobService.Stored records = stored.getOrDefault(stage.name(), new JobService.Stored(false, 0));
      store.insertJob(c, jobs.newJob(own, stage.spec(), SpecParser.toJson(SpecParser.withoutInlineRecords(stage.tree())),
          p.fields(), null, records, new JobInfo.StageInfo(id, stage.name(), spec.toJson())));
      store.stages().insertFeed(c, own, spec.streams() ? 0 : records.total(), !spec.streams());
    }
    store.saveFingerprints(c, id, submission.partsOrSpec().toJson());
    return job;
  }
}
