package io.skein.coordinator.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.coordinator.store.SkeinDb;
import io.skein.coordinator.store.TestDatabases;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Files, their lines and batches, on H2 and (when available) PostgreSQL. */
class BatchStoreTest {

  private static BatchStore.FileInfo file(String id, long at) {
    return new BatchStore.FileInfo(id, "batch", id + ".jsonl", 10, at, null, id.endsWith("2") ? "team-b" : "team-a");
  }

  private static BatchStore.BatchRow batch(String id, long at) {
    return new BatchStore.BatchRow(id, "job-" + id, "file-a", Batches.CHAT, "24h", null, null, at, null, false,
        id.endsWith("2") ? "team-b" : "team-a");
  }

  private static List<String> ids(List<BatchStore.FileInfo> files) {
    return files.stream().map(BatchStore.FileInfo::id).toList();
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void linesArePagedInOrderAndGoWithTheirFile(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      BatchStore store = new BatchStore(db);
      List<BatchStore.Line> lines = new ArrayList<>();
      for (int i = 1; i <= 25; i++) {
        lines.add(new BatchStore.Line(i * 2L, "{\"n\": " + i + "}"));
      }
      store.insertLines("file-a", lines.subList(0, 10));
      store.insertLines("file-a", lines.subList(10, 25));
      store.insertFile(file("file-a", 1));
      assertEquals(lines.subList(0, 7), store.lines("file-a", 0, 7));
      assertEquals(lines.subList(7, 25), store.lines("file-a", 14, 100), "after the 7th line, numbered 14");
      assertTrue(store.deleteFile("file-a"));
      assertEquals(List.of(), store.lines("file-a", 0, 100), "a deleted file's lines go with it");
      assertFalse(store.deleteFile("file-a"));
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void filesAndBatchesAreListedNewestFirstAfterACursor(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      BatchStore store = new BatchStore(db);
      for (int i = 0; i < 5; i++) {
        store.insertFile(file("file-" + i, 100 + i / 2));
        store.insertBatch(batch("batch_" + i, 100 + i / 2));
      }
      store.insertFile(new BatchStore.FileInfo("file-out", "batch_output", "o.jsonl", 1, 200, "batch_0", "team-a"));
      assertEquals(List.of("file-out", "file-4", "file-3"), ids(store.files(null, null, 3, false, null)));
      assertEquals(List.of("file-2", "file-1", "file-0"), ids(store.files("batch", "file-3", 10, false, null)), "ties in time are ordered by id");
      assertEquals(List.of("file-1", "file-2"), ids(store.files("batch", "file-0", 2, true, null)));
      assertEquals(List.of("file-1", "file-0"), ids(store.files("batch", "file-3", 10, false, "team-a")), "a tenant's own files only");
      assertEquals(List.of("file-2"), ids(store.files(null, null, 10, false, "team-b")));
      assertEquals(List.of("batch_4", "batch_3"), store.batches(null, 2, null).stream().map(BatchStore.BatchRow::id).toList());
      assertEquals(List.of("batch_2", "batch_1", "batch_0"), store.batches("batch_3", 10, null).stream().map(BatchStore.BatchRow::id).toList());
      assertEquals(List.of("batch_1", "batch_0"), store.batches("batch_3", 10, "team-a").stream().map(BatchStore.BatchRow::id).toList());
      assertEquals("team-b", store.batch("batch_2").orElseThrow().tenant());
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void anEndedBatchsFilesAreMadeOnceAndItsCancelTimeKept(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      BatchStore store = new BatchStore(db);
      store.insertBatch(batch("batch_x", 1));
      store.cancelled("batch_x", 50);
      store.cancelled("batch_x", 60);
      assertEquals(50L, store.batch("batch_x").orElseThrow().cancelledAt(), "the first request to cancel is the time");
      var out = new BatchStore.FileInfo("file-x-output", "batch_output", "o.jsonl", 7, 70, "batch_x", "team-a");
      store.filesMade("batch_x", List.of(out));
      store.filesMade("batch_x", List.of(out));
      assertTrue(store.batch("batch_x").orElseThrow().filesMade());
      assertEquals(out, store.file("file-x-output").orElseThrow());
    }
  }

  @ParameterizedTest
  @MethodSource("io.skein.coordinator.store.TestDatabases#kinds")
  void theLinesOfAnUploadWhoseNodeDiedAreSweptAndAStoredFilesAreKept(String kind) throws Exception {
    try (SkeinDb db = TestDatabases.open(kind)) {
      BatchStore store = new BatchStore(db);
      store.beginUpload("file-dead");
      store.insertLines("file-dead", List.of(new BatchStore.Line(1, "{}")));
      store.beginUpload("file-kept");
      store.insertLines("file-kept", List.of(new BatchStore.Line(1, "{}")));
      store.insertFile(file("file-kept", 5));
      // Its node died after storing its row, before ending the upload: the mark stays, the file too.
      var retention = new io.skein.coordinator.store.JobRetention(db, java.time.Duration.ZERO);
      long cutoff = System.currentTimeMillis() + 1;
      assertEquals(java.util.Set.of("file-dead", "file-kept"),
          java.util.Set.copyOf(retention.deleteAbandonedUploads(cutoff, 100).toCompletableFuture().get()));
      assertEquals(List.of(), store.lines("file-dead", 0, 10), "the lines of an upload that never got its row are gone");
      assertEquals(1, store.lines("file-kept", 0, 10).size(), "a stored file keeps its lines");
      assertEquals(List.of(), retention.deleteAbandonedUploads(cutoff, 100).toCompletableFuture().get(), "swept once");
    }
  }
}
