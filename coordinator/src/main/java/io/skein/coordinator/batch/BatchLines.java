package io.skein.coordinator.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the lines of a batch input file as OpenAI does before a batch runs: each a JSON object
 * {@code {custom_id, method: "POST", url: <the batch's endpoint>, body: {model, messages, ...}}}
 * ({@code body: {model, input}} for embeddings),
 * every {@code custom_id} unique, one model for the whole file. A problem names its line (numbered
 * from 1) and parameter, with OpenAI's codes where OpenAI has one; at most {@link #MAX_REPORTED} are kept.
 */
public final class BatchLines {

  /** How many problems a failed batch lists (the count of the rest is said in the last). */
  public static final int MAX_REPORTED = 100;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One problem: OpenAI's {@code errors.data[]} entry; {@code line} null for the file as a whole. */
  public record Problem(String code, String message, String param, Long line) {}

  private final String endpoint;
  private final long maxRequests;
  private final Map<String, Long> ids = new HashMap<>();
  private final List<Problem> problems = new ArrayList<>();
  private long unreported;
  private String model;
  private long modelLine;
  private long count;

  /** A check of the lines of a batch for {@code endpoint} holding at most {@code maxRequests} requests. */
  public BatchLines(String endpoint, long maxRequests) {
    this.endpoint = endpoint;
    this.maxRequests = maxRequests;
  }

  /** Checks one line; blank lines are skipped by the caller. */
  public void check(long line, String text) {
    count++;
    if (count == maxRequests + 1) {
      problem(new Problem("too_many_requests_in_file", "the file holds more than " + maxRequests + " requests, the most a batch may"
          + " hold here (skein.batch.max-requests)", null, line));
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (Exception e) {
      node = null;
    }
    if (node == null || !node.isObject()) {
      problem(new Problem("invalid_json_line", "This line is not parseable as valid JSON" + (node == null ? "." : ": it is not an object."),
          null, line));
      return;
    }
    JsonNode id = node.get("custom_id");
    if (id == null || !id.isTextual() || id.asText().isEmpty()) {
      problem(new Problem("missing_required_parameter", "custom_id must be a non-empty string that names the request in the output",
          "custom_id", line));
    } else {
      Long first = ids.putIfAbsent(id.asText(), line);
      if (first != null) {
        problem(new Problem("duplicate_custom_id", "The custom_id for this request is a duplicate of another request (line " + first
            + "). The custom_id parameter must be unique for each request in a batch.", "custom_id", line));
      }
    }
    if (!"POST".equals(node.path("method").asText(null))) {
      problem(new Problem("invalid_request", "method must be \"POST\"", "method", line));
    }
    if (!endpoint.equals(node.path("url").asText(null))) {
      problem(new Problem("mismatched_endpoint", "The URL provided for this request does not match the batch endpoint " + endpoint
          + ".", "url", line));
    }
    JsonNode body = node.get("body");
    if (body == null || !body.isObject()) {
      problem(new Problem("missing_required_parameter", "body must be the request's JSON object", "body", line));
      return;
    }
    body(body, line);
  }

  private void body(JsonNode body, long line) {
    JsonNode m = body.get("model");
    if (m == null || !m.isTextual() || m.asText().isEmpty()) {
      problem(new Problem("missing_required_parameter", "body.model must name the model", "body.model", line));
    } else if (model == null) {
      model = m.asText();
      modelLine = line;
    } else if (!model.equals(m.asText())) {
      problem(new Problem("mismatched_model", "The provided model '" + m.asText() + "' does not match the model of the file's other"
          + " requests ('" + model + "', line " + modelLine + "): a batch's requests all use one model.", "body.model", line));
    }
    if (endpoint.equals(Batches.EMBEDDINGS)) {
      JsonNode input = body.path("input");
      if (!input.isTextual() && !(input.isArray() && !input.isEmpty())) {
        problem(new Problem("missing_required_parameter", "body.input must be a string or a non-empty list", "body.input", line));
      }
      return;
    }
    if (!body.path("messages").isArray() || body.get("messages").isEmpty()) {
      problem(new Problem("missing_required_parameter", "body.messages must be a non-empty list of messages", "body.messages", line));
    }
    if (body.has("n") && body.get("n").asInt(1) != 1) {
      problem(new Problem("invalid_request", "Skein's batches answer one choice per request: n must be 1", "body.n", line));
    }
    if (body.path("stream").asBoolean(false)) {
      problem(new Problem("invalid_request", "a batch request cannot stream: leave stream out or false", "body.stream", line));
    }
  }

  private void problem(Problem p) {
    if (problems.size() < MAX_REPORTED) {
      problems.add(p);
    } else {
      unreported++;
    }
  }

  /** What is wrong with the file as a whole and line by line (empty: it may run). */
  public List<Problem> problems() {
    List<Problem> out = new ArrayList<>(problems);
    if (count == 0) {
      out.add(new Problem("empty_file", "The batch input file is empty.", null, null));
    }
    if (unreported > 0) {
      out.add(new Problem("too_many_errors", unreported + " more problems are not listed (the first " + MAX_REPORTED + " are)", null, null));
    }
    return out;
  }

  /** The model every line names (null before a line names one). */
  public String model() {
    return model;
  }

  /** The line on which the model was first named. */
  public long modelLine() {
    return modelLine;
  }

  public long count() {
    return count;
  }
}
