package io.skein.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.job.InputLines;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Materializer;

/**
 * A job as an HTTP request sends it ({@code POST /jobs}, {@code POST /jobs/preview}): JSON
 * {@code {spec, records}} or a YAML spec alone, read whole under {@code skein.http.max-request-size};
 * or multipart {@code spec} and {@code records} parts (JSONL, CSV or Parquet), the records streamed
 * ({@link MultipartUpload}). What cannot be read is a {@link SpecException} naming the part.
 */
final class Submissions {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long STRICT_TIMEOUT_MS = 60_000;

  private final Materializer materializer;
  /** The most a JSON or YAML body, or a multipart spec part, may hold ({@code skein.http.max-request-size}). */
  private final long maxRequest;
  /** The most a multipart request, its records streamed, may hold ({@code skein.http.max-upload-size}). */
  private final long maxUpload;
  /** Where an upload's unused rest is read away. */
  private final Executor blocking;

  Submissions(Materializer materializer, long maxRequest, long maxUpload, Executor blocking) {
    this.materializer = materializer;
    this.maxRequest = maxRequest;
    this.maxUpload = maxUpload;
    this.blocking = blocking;
  }

  /** A job as the request sends it: JSON {spec, records}, multipart spec and records parts, or a YAML spec alone. */
  CompletionStage<JobService.Submission> parse(HttpRequest request) {
    HttpEntity entity = request.entity();
    String mediaType = entity.getContentType().mediaType().toString();
    if (mediaType.startsWith("multipart/form-data")) {
      return MultipartUpload.read(entity, materializer, maxRequest, maxUpload, blocking);
    } else if (mediaType.equals("application/json")) {
      return strict(entity).thenApply(Submissions::jsonSubmission);
    } else if (mediaType.contains("yaml") || mediaType.startsWith("text/plain")) {
      return strict(entity).thenApply(text -> new JobService.Submission(SpecParser.readTree(text), null, null, null));
    }
    request.discardEntityBytes(materializer);
    return CompletableFuture.failedFuture(new UnsupportedMedia(
        "send the job as application/json {\"spec\": ..., \"records\": [...]}, as multipart/form-data with parts `spec`"
            + " (YAML or JSON) and `records` (JSONL), or as a YAML spec alone; got " + mediaType));
  }

  static final class UnsupportedMedia extends RuntimeException {
    UnsupportedMedia(String message) {
      super(message);
    }
  }

  /** A request, or a part of it, over one of the server's size limits (413): the message names the limit. */
  static final class TooLarge extends RuntimeException {
    TooLarge(String message) {
      super(message);
    }
  }

  private CompletionStage<String> strict(HttpEntity entity) {
    return entity.toStrict(STRICT_TIMEOUT_MS, materializer).thenApply(s -> utf8(s.getData(), ""));
  }

  /** Text that must be UTF-8: a byte that is not is an error naming where, never a silent U+FFFD. */
  static String utf8(org.apache.pekko.util.ByteString bytes, String what) {
    java.nio.ByteBuffer in = bytes.asByteBuffer();
    try {
      return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(in).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new SpecException(what, (what.isEmpty() ? "the request body" : "the `" + what + "` part") + " is not UTF-8 text (byte "
          + (in.position() + 1) + " is not UTF-8)");
    }
  }

  /** Where a JSON parser stopped, when it says (it does not for a document nested too deep). */
  static String at(com.fasterxml.jackson.core.JsonProcessingException p) {
    var loc = p.getLocation();
    return loc == null || loc.getLineNr() < 0 ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
  }

  private static JobService.Submission jsonSubmission(String text) {
    JsonNode body;
    try {
      body = JSON.readTree(text);
    } catch (Exception e) {
      String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException p
          ? p.getOriginalMessage() + at(p)
          : e.getMessage();
      throw new SpecException("", "malformed JSON request body: " + why);
    }
    if (body == null || !body.isObject() || !body.has("spec")) {
      throw new SpecException("spec", "missing: send {\"spec\": {...}, \"records\": [...]}");
    }
    body.fieldNames().forEachRemaining(name -> {
      if (!name.equals("spec") && !name.equals("records")) {
        throw new SpecException(name, "unknown field of the request body: send {\"spec\": {...}, \"records\": [...]}");
      }
    });
    JsonNode spec = body.get("spec").isTextual() ? SpecParser.readTree(body.get("spec").asText()) : body.get("spec");
    Set<String> fields = new LinkedHashSet<>();
    Iterator<InputRow> inputs = null;
    if (body.has("records")) {
      if (!body.get("records").isArray()) {
        throw new SpecException("records", "must be a list of JSON objects");
      }
      List<JsonNode> records = new ArrayList<>();
      body.get("records").forEach(records::add);
      inputs = InputLines.fromRecords(records, fields);
    }
    return new JobService.Submission(spec, inputs, fields, null);
  }

}
