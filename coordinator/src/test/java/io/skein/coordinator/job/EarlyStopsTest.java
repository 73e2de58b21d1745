package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.protocol.JobProtocol.Limits;
import org.junit.jupiter.api.Test;

/** When a job pauses by itself: its spend at max_cost, or too many failures among its last records. */
class EarlyStopsTest {

  private static final long DOLLAR = 1_000_000_000L;

  @Test
  void theCostCapPausesAtTheCapAndSaysWhatTheRestWouldCost() {
    EarlyStops stops = new EarlyStops();
    Limits cap = new Limits(10 * DOLLAR, 0, 0);
    assertNull(stops.reason("job-1", cap, 10 * DOLLAR - 1, 0, 1000, 100), "below the cap");
    String reason = stops.reason("job-1", cap, 10 * DOLLAR, 0, 1000, 100);
    assertTrue(reason.startsWith("max_cost: spent $10.00 of $10.00"), reason);
    assertTrue(reason.contains("the 900 records left would cost about $90.00 more"), reason);
    assertTrue(reason.contains("POST /jobs/job-1/resume?max_cost=") && reason.contains("skein resume job-1 --max-cost"), reason);
    assertNull(stops.reason("job-1", Limits.NONE, 1000 * DOLLAR, 0, 1000, 100), "no cap, no pause");
    assertEquals(100 * DOLLAR, EarlyStops.projected(10 * DOLLAR, 1000, 100));

    // A stage of a staged job: the cap is the whole job's, what the other stages spent counts, and the job is the one to resume.
    assertNull(stops.reason("job-2", cap, 4 * DOLLAR, 6 * DOLLAR - 1, 1000, 100), "below the cap, with the other stages");
    String stage = stops.reason("job-2", cap, 4 * DOLLAR, 6 * DOLLAR, 1000, 100);
    assertTrue(stage.startsWith("max_cost: spent $10.00 of $10.00 ($6.00 of it by the job's other stages)"), stage);
    assertTrue(stage.contains("the 900 records left of this stage would cost about $36.00 more"), stage);
    assertTrue(stage.contains("POST /jobs/job-2/resume?max_cost="), stage);
    assertEquals(10 * DOLLAR, EarlyStops.projected(10 * DOLLAR, 1000, 0), "nothing done yet: no projection beyond the spend");
  }

  @Test
  void theErrorRateIsJudgedOnAFullWindowOfTheLastRecordsWithTheMostCommonError() {
    EarlyStops stops = new EarlyStops();
    Limits rule = new Limits(0, 0.5, 10);
    for (int i = 0; i < 9; i++) {
      stops.ended(i % 3 == 0 ? null : i % 3 == 1 ? "validation_failed" : "rate_limited", rule);
    }
    assertNull(stops.reason("job-1", rule, 0, 0, 1000, 9), "6 of 9 failed, but the window is not full yet");
    stops.ended("validation_failed", rule);
    String reason = stops.reason("job-1", rule, 0, 0, 1000, 10);
    assertTrue(reason.startsWith("max_error_rate: 7 of the last 10 records failed (more than 50%)"), reason);
    assertTrue(reason.contains("the most common error is validation_failed (4 of them)"), reason);

    // The window slides: successes push the failures out.
    for (int i = 0; i < 6; i++) {
      stops.ended(null, rule);
    }
    assertNull(stops.reason("job-1", rule, 0, 0, 1000, 16), "4 of the last 10 failed: not more than half");

    // Exactly the rate is not more than it.
    EarlyStops half = new EarlyStops();
    for (int i = 0; i < 10; i++) {
      half.ended(i % 2 == 0 ? null : "x", rule);
    }
    assertNull(half.reason("job-1", rule, 0, 0, 1000, 10));
    half.ended("x", rule);
    assertTrue(half.reason("job-1", rule, 0, 0, 1000, 11).contains("6 of the last 10"));
    half.clear();
    assertNull(half.reason("job-1", rule, 0, 0, 1000, 11), "after a resume the window starts again");
  }
}
