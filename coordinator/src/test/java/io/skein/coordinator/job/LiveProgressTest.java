package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.protocol.RecordProtocol.RecordProgress;
import org.junit.jupiter.api.Test;

class LiveProgressTest {

  @Test
  void countsAddWhatRunningRecordsJournaledAndAReportReplacesTheLast() {
    LiveProgress live = new LiveProgress();
    Counts ledger = new Counts(10, 1, 33, 3300);
    assertEquals(ledger, live.counts(ledger), "nothing running: the ledger's counts");
    live.report(new RecordProgress("j", 11, 1, 100, null));
    live.report(new RecordProgress("j", 12, 2, 250, null));
    live.report(new RecordProgress("j", 11, 2, 210, null));
    live.report(new RecordProgress("j", 11, 2, 210, null));
    assertEquals(new Counts(10, 1, 37, 3760), live.counts(ledger), "totals per record, so a repeated report counts once");
    live.ended(11);
    assertEquals(new Counts(10, 1, 35, 3550), live.counts(ledger), "an ended record's calls are the ledger's now");
  }

  @Test
  void itSaysWhatRecordsWaitForAndHowMany() {
    LiveProgress live = new LiveProgress();
    live.report(new RecordProgress("j", 1, 1, 10, null));
    assertNull(live.waiting());
    live.report(new RecordProgress("j", 2, 1, 10, "model `m` is unavailable (HTTP 503) since 2026-12-02T04:00:02Z"));
    live.report(new RecordProgress("j", 3, 1, 10, "model `m` is unavailable (HTTP 503) since 2026-12-02T04:00:01Z"));
    assertEquals("model `m` is unavailable (HTTP 503) since 2026-12-02T04:00:01Z (2 records wait)", live.waiting());
    live.report(new RecordProgress("j", 2, 2, 20, null));
    live.ended(3);
    assertNull(live.waiting(), "once their calls go through, nothing waits");
  }
}
