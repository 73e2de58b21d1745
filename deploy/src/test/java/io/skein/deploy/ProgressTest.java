package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.protocol.JobProtocol.JobState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `skein run`'s progress line: records of the total, or, for a job with a target, rows passed of the target. */
class ProgressTest {

  private static JobInfo job(String spec) {
    return new JobInfo("j", "t", spec, List.of(), "fp", true, 30, 10, JobState.RUNNING, null, new Counts(6, 3, 20, 900), 4, 1, 1, null, null);
  }

  @Test
  void aTargetJobCountsRowsPassedOfItsTarget() {
    String line = Progress.line(job("{\"name\": \"t\", \"target\": 10}"), 0, 2.0);
    assertTrue(line.contains(" 60% 6/10 rows passed (3 failed, of at most 30 records)"), line);
    String plain = Progress.line(job("{\"name\": \"t\"}"), 0, 2.0);
    assertTrue(plain.contains(" 30% 9/30 records (3 failed)"), plain);
  }
}
