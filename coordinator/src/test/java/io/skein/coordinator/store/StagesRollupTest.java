package io.skein.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.coordinator.store.JobInfo.StageInfo;
import io.skein.protocol.JobProtocol.JobState;
import java.util.List;
import org.junit.jupiter.api.Test;

class StagesRollupTest {

  /** A stage row of the staged job {@code parent}, at {@code position} among its stages. */
  private static JobInfo stage(int position, String name, JobState state, String reason, long total, Counts counts, long inFlight,
      Long finishedAt, String waiting) {
    String feed = new FeedSpec(position, position == 0 ? null : "parent-" + (position - 1), null, null, null, null).toJson();
    return new JobInfo("parent-" + position, name, "{}", List.of(), "fp", false, total, 8, state, reason, counts, inFlight, 1000L,
        2000L, finishedAt, "node-1", waiting, new StageInfo("parent", name, feed));
  }

  private static JobInfo ended(int position, String name, JobState state, String reason, Long finishedAt) {
    return stage(position, name, state, reason, 10, new Counts(9, 1, 20, 2000), 0, finishedAt, null);
  }

  private static JobInfo running(int position, String name, JobState state, String reason) {
    return stage(position, name, state, reason, 10, new Counts(3, 0, 6, 600), 2, null, null);
  }

  @Test
  void countsTotalsCallsAndTokensAreSums() {
    StagesRollup r = StagesRollup.of(List.of(
        stage(0, "setup", JobState.SUCCEEDED, null, 1, new Counts(1, 0, 1, 100), 0, 5000L, null),
        stage(1, "topics", JobState.RUNNING, null, 4, new Counts(3, 1, 7, 700), 1, null, null),
        stage(2, "poems", JobState.RUNNING, null, 15, new Counts(10, 2, 30, 3000), 4, null, null)));
    assertEquals(20, r.total(), "total is the stages' records summed");
    assertEquals(new Counts(14, 3, 38, 3800), r.counts(), "succeeded, failed, calls and tokens summed");
    assertEquals(5, r.inFlight(), "in flight: the running stages' records");
  }

  @Test
  void itRunsWhileAnyStageRuns() {
    StagesRollup r = StagesRollup.of(List.of(
        ended(0, "a", JobState.SUCCEEDED, null, 5000L),
        running(1, "b", JobState.RUNNING, null),
        stage(2, "c", JobState.RUNNING, null, 0, Counts.ZERO, 0, null, null)));
    assertEquals(JobState.RUNNING, r.state());
    assertNull(r.reason());
    assertNull(r.finishedAt(), "a running job has not finished, though a stage has");
  }

  @Test
  void aFailedStageDoesNotEndTheJobWhileAnotherRuns() {
    StagesRollup r = StagesRollup.of(List.of(
        ended(0, "a", JobState.FAILED, "model refused", 5000L),
        running(1, "b", JobState.RUNNING, null)));
    assertEquals(JobState.RUNNING, r.state(), "the job ends once every stage has");
    assertNull(r.finishedAt());
  }

  @Test
  void itIsPausedWhileAStageIsPausedAndSaysWhich() {
    StagesRollup r = StagesRollup.of(List.of(
        ended(0, "topics", JobState.SUCCEEDED, null, 5000L),
        running(1, "poems", JobState.PAUSED, "model `writer` refused calls (HTTP 401)"),
        running(2, "judged", JobState.RUNNING, null)));
    assertEquals(JobState.PAUSED, r.state(), "a paused stage pauses the job, though another runs");
    assertEquals("stage `poems` paused: model `writer` refused calls (HTTP 401)", r.reason());
    assertNull(r.finishedAt());
    assertEquals(4, r.inFlight(), "in flight: the stages not ended");
  }

  @Test
  void aPausedStageWithoutAReasonIsNamed() {
    StagesRollup r = StagesRollup.of(List.of(running(0, "a", JobState.PAUSED, null), running(1, "b", JobState.RUNNING, null)));
    assertEquals(JobState.PAUSED, r.state());
    assertEquals("stage `a` paused", r.reason());
  }

  @Test
  void whatRunningStagesWaitForIsTheFirstOne() {
    StagesRollup r = StagesRollup.of(List.of(
        stage(0, "a", JobState.SUCCEEDED, null, 1, Counts.ZERO, 0, 5000L, "stale: model `m` was unavailable"),
        stage(1, "b", JobState.RUNNING, null, 1, Counts.ZERO, 1, null, null),
        stage(2, "c", JobState.RUNNING, null, 1, Counts.ZERO, 1, null, "model `m` is unavailable (2 records wait)"),
        stage(3, "d", JobState.RUNNING, null, 1, Counts.ZERO, 1, null, "model `n` is rate-limiting")));
    assertEquals("model `m` is unavailable (2 records wait)", r.waiting(), "an ended stage waits for nothing");
  }

  @Test
  void allEndedAndOneCancelledIsCancelled() {
    StagesRollup r = StagesRollup.of(List.of(
        ended(0, "a", JobState.SUCCEEDED, null, 5000L),
        ended(1, "b", JobState.FAILED, "boom", 6000L),
        ended(2, "c", JobState.CANCELLED, null, 7000L)));
    assertEquals(JobState.CANCELLED, r.state(), "cancelled wins over failed");
    assertEquals("cancelled by request", r.reason());
    assertEquals(7000L, r.finishedAt());
    assertEquals(0, r.inFlight());
    assertNull(r.waiting());
  }

  @Test
  void allEndedAndOneFailedIsFailedWithTheFirstFailedStagesReason() {
    StagesRollup r = StagesRollup.of(List.of(
        ended(0, "topics", JobState.SUCCEEDED, null, 5000L),
        ended(1, "poems", JobState.FAILED, "model `writer` refused calls", 9000L),
        ended(2, "judged", JobState.FAILED, "its source failed", 6000L)));
    assertEquals(JobState.FAILED, r.state());
    assertEquals("stage `poems` failed: model `writer` refused calls", r.reason(), "the first failed stage, in stage order");
    assertEquals(9000L, r.finishedAt(), "finished when the last stage did");
    assertEquals(new Counts(27, 3, 60, 6000), r.counts());
    assertEquals(30, r.total());
  }

  @Test
  void aFailedStageWithoutAReasonIsNamed() {
    StagesRollup r = StagesRollup.of(List.of(ended(0, "a", JobState.FAILED, null, 5000L)));
    assertEquals("stage `a` failed", r.reason());
  }

  @Test
  void allSucceededIsSucceededFinishedWhenTheLatestStageDid() {
    StagesRollup r = StagesRollup.of(List.of(
        ended(0, "setup", JobState.SUCCEEDED, null, 5000L),
        ended(1, "a", JobState.SUCCEEDED, null, 9000L),
        ended(2, "b", JobState.SUCCEEDED, null, 8000L)));
    assertEquals(JobState.SUCCEEDED, r.state());
    assertNull(r.reason());
    assertEquals(9000L, r.finishedAt(), "the latest finish, not the last stage's");
    assertEquals(0, r.inFlight());
  }

  @Test
  void aStagesPositionComesFromItsFeed() {
    assertEquals(0, StagesRollup.position(ended(0, "a", JobState.SUCCEEDED, null, 1L)));
    assertEquals(3, StagesRollup.position(ended(3, "d", JobState.SUCCEEDED, null, 1L)));
    JobInfo single = new JobInfo("j", "j", "{}", List.of(), "fp", false, 1, 8, JobState.RUNNING, null, Counts.ZERO, 0, 1L, 1L, null,
        "node-1");
    assertEquals(0, StagesRollup.position(single), "a job of one stage is at 0");
  }
}
