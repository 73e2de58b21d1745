package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.protocol.RecordProtocol.RecordBlocked;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The coordinator's dispatch: which records it sends, when, and what it makes of their reports. */
class DispatchTest {

  private static List<Long> range(long from, long to) {
    return LongStream.range(from, to).boxed().toList();
  }

  /** A retry's page: error rows that had counted one call and ten tokens each. */
  private static List<io.skein.coordinator.store.JobStore.FailedRow> rows(long... indexes) {
    return LongStream.of(indexes).mapToObj(i -> new io.skein.coordinator.store.JobStore.FailedRow(i, 1, 10, 0)).toList();
  }

  private static RecordBlocked blockedReport(long index) {
    return new RecordBlocked("job", index, "m", "step", "unauthorized", "HTTP 401", 0);
  }

  @Test
  void aWideWindowOpensAsFastAsRecordsStartNotInOneBurst() {
    Dispatch d = new Dispatch(1_000);
    d.begin(0, Set.of());
    assertEquals(range(0, 1_000), d.next(50_000, 100_000, 0), "no more than max-starting sent before any is heard from");
    assertEquals(List.of(), d.next(50_000, 100_000, 0), "nothing more until one starts");
    for (long i = 0; i < 300; i++) {
      assertTrue(d.heardFrom(i));
    }
    assertEquals(range(1_000, 1_300), d.next(50_000, 100_000, 0), "as many more as have started");
    assertFalse(d.heardFrom(5), "only the first word counts");
    assertEquals(1_300, d.inFlight());
    assertEquals(1_000, d.starting());
  }

  @Test
  void theWindowBoundsRecordsInFlightAndEndsFreeIt() {
    Dispatch d = new Dispatch(1_000);
    d.begin(0, Set.of());
    assertEquals(range(0, 10), d.next(10, 100, 0));
    range(0, 10).forEach(d::heardFrom);
    assertEquals(List.of(), d.next(10, 100, 0), "ten in flight: the window is full, started or not");
    d.ended(3);
    d.ended(0);
    assertEquals(List.of(10L, 11L), d.next(10, 100, 0));
    assertEquals(1, d.low(), "the low mark passes ended records only while they are contiguous");
    d.ended(1);
    d.ended(2);
    assertEquals(4, d.low());
    assertTrue(d.hasEnded(2) && d.hasEnded(3) && !d.hasEnded(4));
  }

  @Test
  void aRecordEndedWithoutAWordBeforeIsNoLongerStarting() {
    Dispatch d = new Dispatch(2);
    d.begin(0, Set.of());
    assertEquals(List.of(0L, 1L), d.next(100, 100, 0));
    d.ended(0);  // a record that had ended before: its outcome is its first report
    assertEquals(List.of(2L), d.next(100, 100, 0));
  }

  @Test
  void afterARestartRecordsThatHadEndedAreNotSentAgain() {
    Dispatch d = new Dispatch(100);
    d.begin(5, Set.of(5L, 6L, 8L));
    assertEquals(7, d.low(), "the low mark moves past those that had ended");
    assertEquals(List.of(7L, 9L, 10L), d.next(100, 11, 0), "sent below the limit only, 8 skipped");
    assertTrue(d.hasEnded(8) && d.hasEnded(4) && !d.hasEnded(9));
  }

  @Test
  void blockedRecordsLeaveTheWindowUntilAResume() {
    Dispatch d = new Dispatch(100);
    d.begin(0, Set.of());
    d.next(3, 100, 0);
    assertTrue(d.blocked(blockedReport(1)));
    assertFalse(d.blocked(blockedReport(1)), "a second report of the same record is not news");
    assertTrue(d.blocked(blockedReport(0)));
    assertEquals(1, d.inFlight());
    assertEquals(2, d.blockedCount());
    assertEquals(0, d.lastBlocked().index(), "the last reported, for the pause's reason");
    assertEquals(List.of(3L, 4L), d.next(3, 100, 0), "blocked records do not hold the window");
    assertEquals(List.of(1L, 0L), d.unblock(50), "a resume sends them again");
    assertFalse(d.hasBlocked());
    assertEquals(5, d.inFlight());
  }

  @Test
  void silentRecordsAreSentEnsureAgainAndACancelForgetsAll() {
    Dispatch d = new Dispatch(100);
    d.begin(0, Set.of());
    d.next(2, 100, 1_000);
    d.next(3, 100, 5_000);
    assertEquals(List.of(0L, 1L), d.stale(2_000, 9_000).stream().sorted().toList());
    assertEquals(List.of(), d.stale(2_000, 9_500), "each was sent again as of the time it was");
    assertEquals(3, d.everyInFlight(10_000).size());
    d.blocked(blockedReport(2));
    assertEquals(Set.of(0L, 1L, 2L), d.cancel());
    assertEquals(0, d.inFlight());
    assertFalse(d.hasBlocked());
  }

  @Test
  void maxStartingIsAtLeastOne() {
    assertThrows(IllegalArgumentException.class, () -> new Dispatch(0));
  }

  @Test
  void aRetrySendsOnlyItsPagesRecordsInIndexOrderAndEndsWhenTheyHaveAll() {
    Dispatch d = new Dispatch(1_000);
    d.begin(0, Set.of());
    d.beginOnly();
    assertTrue(d.retrying());
    assertTrue(d.wantsPage(3), "no page yet");
    assertFalse(d.allSent(), "more pages may come");
    d.addPage(rows(4, 9, 20), false);
    assertEquals(4, d.low(), "the first record of the retry not yet ended");
    assertEquals(List.of(4L, 9L), d.next(2, Long.MAX_VALUE, 0), "in index order, within the window");
    assertTrue(d.wantsPage(2), "one left to send, fewer than the window");
    assertFalse(d.wantsPage(1));
    assertTrue(d.hasEnded(5) && d.hasEnded(0), "a record not retried is no part of it: its reports are ignored");
    assertFalse(d.hasEnded(20));
    assertEquals(10, d.prior(9).tokens(), "what the record's error row counted");
    d.ended(9);
    assertEquals(null, d.prior(9), "forgotten once it ends");
    assertEquals(4, d.low());
    assertEquals(List.of(20L), d.next(2, Long.MAX_VALUE, 0));
    assertEquals(20, d.paged(), "the next page starts after the last index read");
    d.addPage(rows(31), true);
    assertFalse(d.allSent());
    assertEquals(List.of(31L), d.next(5, Long.MAX_VALUE, 0));
    assertTrue(d.allSent());
    assertFalse(d.wantsPage(5), "the last page is in");
    d.ended(4);
    d.ended(20);
    assertFalse(d.retryDone());
    assertEquals(31, d.low());
    d.ended(31);
    assertTrue(d.retryDone());
    assertEquals(0, d.inFlight());
  }

  @Test
  void aRetryKeepsItsWindowAndItsBlockedRecordsAsAnyRun() {
    Dispatch d = new Dispatch(1_000);
    d.beginOnly();
    d.addPage(rows(1, 2, 3), true);
    assertEquals(List.of(1L, 2L), d.next(2, Long.MAX_VALUE, 0));
    assertTrue(d.blocked(blockedReport(2)));
    assertEquals(List.of(3L), d.next(2, Long.MAX_VALUE, 0), "a blocked record leaves the window");
    assertEquals(List.of(2L), d.unblock(5));
    d.ended(1);
    d.ended(3);
    assertFalse(d.retryDone(), "record 2 has not ended");
    d.ended(2);
    assertTrue(d.retryDone());
  }

  @Test
  void anEmptyRetryIsDoneOnceItsOnlyPageSaysSo() {
    Dispatch d = new Dispatch(10);
    d.beginOnly();
    assertFalse(d.retryDone());
    d.addPage(rows(), true);
    assertTrue(d.retryDone());
    assertTrue(d.allSent());
  }
}
