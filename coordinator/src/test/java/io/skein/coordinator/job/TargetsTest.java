package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How far a job with a target may start records: one a row wanted and one a failure, within its pool, none once it is met. */
class TargetsTest {

  @Test
  void eachFailureStartsOneMoreRecordWithinThePool() {
    assertEquals(10, Targets.startable(10, 30, 0, 0, 0, 0), "at first, a record a row");
    assertEquals(13, Targets.startable(10, 30, 4, 3, 10, 0), "three failed: three more");
    assertEquals(30, Targets.startable(10, 30, 2, 25, 30, 0), "never past max_records");
  }

  @Test
  void onceMetNothingMoreStartsButWhatWasSentEnds() {
    assertEquals(14, Targets.startable(10, 30, 10, 3, 14, 0), "records in flight past the target still end (extras)");
    assertEquals(14, Targets.startable(10, 30, 12, 3, 14, 0));
    assertEquals(20, Targets.startable(10, 30, 10, 3, 5, 20), "after a recovery: every record that may have been sent ends first");
    assertEquals(30, Targets.startable(10, 30, 10, 3, 5, 64), "the dispatch mark may run past the pool");
  }

  @Test
  void aShortfallIsSaidWithTheNumbers() {
    assertNull(Targets.shortfall(10, 30, 10));
    String why = Targets.shortfall(10, 30, 7);
    assertTrue(why.startsWith("max_records (30) reached with 7 of the 10 rows `target` asks for passed"), why);
  }
}
