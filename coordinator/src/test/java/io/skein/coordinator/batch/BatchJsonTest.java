package io.skein.coordinator.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.coordinator.store.JobInfo;
import io.skein.protocol.JobProtocol.JobState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A batch's status and counts read from its job, and the lines of its output and error files read from the job's rows. */
class BatchJsonTest {

  private static final BatchStore.BatchRow ROW =
      new BatchStore.BatchRow("batch_ab12", "job-1", "file-x", Batches.CHAT, "24h", "{\"k\":\"v\"}", null, 10_000, null, false, null);

  private static JobInfo job(JobState state, Long finishedAt) {
    return new JobInfo("job-1", "batch_ab12", "{}", List.of(), null, false, 5, 10, state, null, new JobInfo.Counts(3, 1, 4, 40), 1,
        10_000, 20_000, finishedAt, null);
  }

  @Test
  void theStatusFollowsTheJob() {
    assertEquals("in_progress", BatchJson.status(ROW, job(JobState.RUNNING, null)));
    assertEquals("in_progress", BatchJson.status(ROW, job(JobState.PAUSED, null)));
    assertEquals("completed", BatchJson.status(ROW, job(JobState.SUCCEEDED, 30_000L)));
    assertEquals("completed", BatchJson.status(ROW, job(JobState.FAILED, 30_000L)), "failed requests make a completed batch");
    assertEquals("cancelled", BatchJson.status(ROW, job(JobState.CANCELLED, 30_000L)));
    var asked = new BatchStore.BatchRow("batch_ab12", "job-1", "file-x", Batches.CHAT, "24h", null, null, 10_000, 15_000L, false, null);
    assertEquals("cancelling", BatchJson.status(asked, job(JobState.RUNNING, null)));
    assertEquals("expired", BatchJson.status(ROW, null), "the job, and its results, are gone");
    var invalid = new BatchStore.BatchRow("batch_ab12", null, "file-x", Batches.CHAT, "24h", null, "[]", 10_000, null, false, null);
    assertEquals("failed", BatchJson.status(invalid, null));
    var validating = new BatchStore.BatchRow("batch_ab12", null, "file-x", Batches.CHAT, "24h", null, null, 10_000, null, false, null);
    assertEquals("validating", BatchJson.status(validating, null), "its row is in, its job not yet");
  }

  @Test
  void aCompletedBatchNamesItsFilesTimesAndCounts() {
    JsonNode b = BatchJson.batch(ROW, job(JobState.FAILED, 30_000L), true, true);
    assertEquals("batch", b.get("object").asText());
    assertEquals("completed", b.get("status").asText());
    assertEquals("file-ab12-output", b.get("output_file_id").asText());
    assertEquals("file-ab12-errors", b.get("error_file_id").asText());
    assertEquals(10, b.get("created_at").asLong());
    assertEquals(30, b.get("completed_at").asLong());
    assertEquals(10 + 24 * 3600, b.get("expires_at").asLong());
    assertEquals(5, b.at("/request_counts/total").asLong());
    assertEquals(3, b.at("/request_counts/completed").asLong());
    assertEquals(1, b.at("/request_counts/failed").asLong());
    assertEquals("v", b.at("/metadata/k").asText());
    assertTrue(b.get("errors").isNull());
  }

  @Test
  void anAnswerBecomesAnOutputLine() {
    String row = "{\"id\": 4, \"custom_id\": \"q4\", \"response\": {\"id\": \"chatcmpl-ff00\", \"object\": \"chat.completion\"}}";
    JsonNode line = BatchJson.read(BatchJson.outputLine("job-1", row));
    assertEquals("q4", line.get("custom_id").asText());
    assertEquals(200, line.at("/response/status_code").asInt());
    assertEquals("req_ff00", line.at("/response/request_id").asText());
    assertEquals("chat.completion", line.at("/response/body/object").asText());
    assertTrue(line.get("error").isNull());
  }

  @Test
  void aProvidersRefusalKeepsItsStatusAndMessageAndOtherFailuresGoToError() {
    String refused = "{\"id\": 2, \"error\": {\"type\": \"bad_request\", \"message\": \"HTTP 400: {\\\"error\\\": {\\\"message\\\":"
        + " \\\"max_tokens is too small\\\"}}\"}, \"input\": {\"custom_id\": \"q2\"}}";
    JsonNode line = BatchJson.read(BatchJson.errorLine("job-1", refused));
    assertEquals("q2", line.get("custom_id").asText());
    assertEquals(400, line.at("/response/status_code").asInt());
    assertEquals("max_tokens is too small", line.at("/response/body/error/message").asText());
    assertEquals("bad_request", line.at("/response/body/error/code").asText());
    assertTrue(line.get("error").isNull());
    String timedOut = "{\"id\": 3, \"error\": {\"type\": \"timeout\", \"message\": \"no answer within 60 s\"}, \"input\": {\"custom_id\": \"q3\"}}";
    JsonNode other = BatchJson.read(BatchJson.errorLine("job-1", timedOut));
    assertTrue(other.get("response").isNull());
    assertEquals("timeout", other.at("/error/code").asText());
    assertEquals("no answer within 60 s", other.at("/error/message").asText());
  }
}
