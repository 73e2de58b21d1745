package io.skein.coordinator.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.JobInfo;
import io.skein.protocol.JobProtocol.JobState;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OpenAI Batch API's objects as Skein writes them: files, batches (whose status and counts are
 * their job's) and the lines of output and error files (made from the job's ledger rows). Pure.
 */
public final class BatchJson {

  static final ObjectMapper JSON = new ObjectMapper();
  /** OpenAI's only completion window, and how long after its creation a batch says it expires. */
  public static final String WINDOW = "24h";
  private static final long WINDOW_SECONDS = 24 * 3600;
  private static final Pattern HTTP_STATUS = Pattern.compile("^HTTP (\\d{3})(?:: (.*))?$", Pattern.DOTALL);

  private BatchJson() {}

  public static ObjectNode file(BatchStore.FileInfo f) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", f.id()).put("object", "file").put("bytes", f.bytes()).put("created_at", f.createdAt() / 1000)
        .put("filename", f.filename()).put("purpose", f.purpose()).put("status", "processed").putNull("status_details");
    o.putNull("expires_at");
    return o;
  }

  /** OpenAI's list page: {@code {object: list, data, first_id, last_id, has_more}}. */
  public static ObjectNode list(List<ObjectNode> data, boolean hasMore) {
    ObjectNode o = JSON.createObjectNode().put("object", "list");
    ArrayNode array = o.putArray("data");
    data.forEach(array::add);
    if (data.isEmpty()) {
      o.putNull("first_id");
      o.putNull("last_id");
    } else {
      o.put("first_id", data.get(0).get("id").asText()).put("last_id", data.get(data.size() - 1).get("id").asText());
    }
    return o.put("has_more", hasMore);
  }

  /** The id of a batch's output file (its succeeded requests) and of its error file (its failed ones). */
  public static String outputFileId(String batchId) {
    return "file-" + batchId.substring(batchId.indexOf('_') + 1) + "-output";
  }

  public static String errorFileId(String batchId) {
    return "file-" + batchId.substring(batchId.indexOf('_') + 1) + "-errors";
  }

  /** A batch's status as OpenAI names it, from its own row and its job's (null: the job is gone, its results with it). */
  public static String status(BatchStore.BatchRow b, JobInfo job) {
    if (b.errors() != null) {
      return "failed";
    }
    if (b.jobId() == null) {
      return "validating";
    }
    if (job == null) {
      return "expired";
    }
    return switch (job.state()) {
      case RUNNING, PAUSED -> b.cancelledAt() != null ? "cancelling" : "in_progress";
      case SUCCEEDED, FAILED -> "completed";
      case CANCELLED -> "cancelled";
    };
  }

  /** The batch object; {@code output} and {@code errors}: whether its output and error files exist. */
  public static ObjectNode batch(BatchStore.BatchRow b, JobInfo job, boolean output, boolean errors) {
    String status = status(b, job);
    ObjectNode o = JSON.createObjectNode();
    long created = b.createdAt() / 1000;
    o.put("id", b.id()).put("object", "batch").put("endpoint", b.endpoint());
    if (b.errors() == null) {
      o.putNull("errors");
    } else {
      ObjectNode list = o.putObject("errors").put("object", "list");
      list.set("data", read(b.errors()));
    }
    o.put("input_file_id", b.inputFileId()).put("completion_window", b.completionWindow()).put("status", status);
    put(o, "output_file_id", output ? outputFileId(b.id()) : null);
    put(o, "error_file_id", errors ? errorFileId(b.id()) : null);
    o.put("created_at", created);
    put(o, "in_progress_at", job == null ? null : created);
    o.put("expires_at", created + WINDOW_SECONDS);
    Long finished = job == null || job.finishedAt() == null ? null : job.finishedAt() / 1000;
    boolean completed = status.equals("completed");
    put(o, "finalizing_at", completed ? finished : null);
    put(o, "completed_at", completed ? finished : null);
    put(o, "failed_at", status.equals("failed") ? created : null);
    o.putNull("expired_at");
    put(o, "cancelling_at", b.cancelledAt() == null ? null : b.cancelledAt() / 1000);
    put(o, "cancelled_at", status.equals("cancelled") ? finished : null);
    o.putObject("request_counts").put("total", job == null ? 0 : job.total())
        .put("completed", job == null ? 0 : job.counts().succeeded()).put("failed", job == null ? 0 : job.counts().failed());
    o.set("metadata", b.metadata() == null ? JSON.nullNode() : read(b.metadata()));
    return o;
  }

  private static void put(ObjectNode o, String key, Long value) {
    if (value == null) {
      o.putNull(key);
    } else {
      o.put(key, value);
    }
  }

  private static void put(ObjectNode o, String key, String value) {
    if (value == null) {
      o.putNull(key);
    } else {
      o.put(key, value);
    }
  }

  /** The problems of a file that failed validation, as {@code errors.data}. */
  public static String problems(List<BatchLines.Problem> problems) {
    ArrayNode data = JSON.createArrayNode();
    for (BatchLines.Problem p : problems) {
      ObjectNode e = data.addObject().put("code", p.code()).put("message", p.message());
      put(e, "param", p.param());
      put(e, "line", p.line());
    }
    return data.toString();
  }

  /**
   * A succeeded request's output line, from its ledger row ({@code {id, custom_id, response}}, the
   * response the chat.completion the {@code request} step made).
   */
  public static String outputLine(String jobId, String rowJson) {
    JsonNode row = read(rowJson);
    JsonNode completion = row.path("response");
    ObjectNode line = JSON.createObjectNode();
    String request = jobId.substring(jobId.indexOf('-') + 1) + "_" + row.path("id").asText();
    line.put("id", "batch_req_" + request);
    line.set("custom_id", row.get("custom_id"));
    ObjectNode response = line.putObject("response").put("status_code", 200);
    // A chat completion's id names its call; an embeddings list has none.
    response.put("request_id", "req_" + (completion.has("id") ? completion.path("id").asText().replace("chatcmpl-", "") : request));
    response.set("body", completion);
    line.putNull("error");
    return line.toString();
  }

  /**
   * A failed request's error line, from its error row ({@code {id, error: {type, message}, input}}):
   * a provider's refusal as OpenAI writes one ({@code response} with its HTTP status and an error
   * body), any other failure (a timeout, a connection lost, retries spent on answers not JSON...) in
   * the top-level {@code error}.
   */
  public static String errorLine(String jobId, String rowJson) {
    JsonNode row = read(rowJson);
    String type = row.path("error").path("type").asText("error");
    String message = row.path("error").path("message").asText("");
    ObjectNode line = JSON.createObjectNode();
    String index = row.path("id").asText();
    line.put("id", "batch_req_" + jobId.substring(jobId.indexOf('-') + 1) + "_" + index);
    line.set("custom_id", row.path("input").get("custom_id"));
    Matcher http = HTTP_STATUS.matcher(message);
    if (http.matches()) {
      ObjectNode response = line.putObject("response").put("status_code", Integer.parseInt(http.group(1)));
      response.put("request_id", "req_" + jobId.substring(jobId.indexOf('-') + 1) + "_" + index);
      ObjectNode error = response.putObject("body").putObject("error");
      error.put("message", providerMessage(http.group(2), message)).put("type", type).putNull("param").put("code", type);
      line.putNull("error");
    } else {
      line.putNull("response");
      line.putObject("error").put("code", type).put("message", message);
    }
    return line.toString();
  }

  /** The provider's own error message when its body says one, else what Skein recorded. */
  private static String providerMessage(String body, String recorded) {
    if (body != null) {
      try {
        JsonNode parsed = JSON.readTree(body);
        if (parsed != null && parsed.path("error").path("message").isTextual()) {
          return parsed.path("error").path("message").asText();
        }
      } catch (Exception e) {
        // An abbreviated or non-JSON body: what Skein recorded says it.
      }
    }
    return recorded;
  }

  static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("not JSON: " + e.getMessage(), e);
    }
  }
}
