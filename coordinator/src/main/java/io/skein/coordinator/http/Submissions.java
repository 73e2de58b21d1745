package io.skein.coordinator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.job.InputFiles;
import io.skein.coordinator.job.InputLines;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.Materializer;

/**
 * A job as an HTTP request sends it ({@code POST /jobs}, {@code POST /jobs/preview}): JSON
 * {@code {spec, records}}, multipart {@code spec} and {@code records} parts (JSONL, CSV or Parquet),
 * or a YAML spec alone. What cannot be read is a {@link SpecException} naming the part.
 */
final class Submissions {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long STRICT_TIMEOUT_MS = 60_000;

  private final Materializer materializer;

  Submissions(Materializer materializer) {
    this.materializer = materializer;
  }

  /** A job as the request sends it: JSON {spec, records}, multipart spec and records parts, or a YAML spec alone. */
  CompletionStage<JobService.Submission> parse(HttpRequest request) {
    HttpEntity entity = request.entity();
    String mediaType = entity.getContentType().mediaType().toString();
    if (mediaType.startsWith("multipart/form-data")) {
      return multipart(entity);
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

  private CompletionStage<JobService.Submission> multipart(HttpEntity entity) {
    return Unmarshaller.entityToMultipartFormData().unmarshal(entity, materializer)
        .thenCompose(form -> form.toStrict(STRICT_TIMEOUT_MS, materializer))
        .exceptionally(error -> {
          Throwable e = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
          if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException size) {
            throw size;
          }
          if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamException stream && String.valueOf(stream.getMessage()).contains("too large")) {
            throw stream;
          }
          throw new SpecException("", "malformed multipart/form-data body: " + e.getMessage()
              + " (send parts `spec` and `records` with a boundary, as curl -F does)");
        })
        .thenApply(form -> {
          String spec = null;
          Multipart.FormData.BodyPart.Strict records = null;
          for (Multipart.FormData.BodyPart.Strict part : form.getStrictParts()) {
            if ((part.getName().equals("spec") && spec != null) || (part.getName().equals("records") && records != null)) {
              throw new SpecException(part.getName(), "given twice: send one `" + part.getName() + "` part");
            }
            switch (part.getName()) {
              case "spec" -> spec = utf8(part.getEntity().getData(), "spec");
              case "records" -> records = part;
              default -> throw new SpecException(part.getName(),
                  "unknown part: send `spec` (YAML or JSON) and `records` (JSONL, or a .csv or .parquet file)");
            }
          }
          if (spec == null) {
            throw new SpecException("spec", "missing: the multipart request needs a `spec` part (YAML or JSON)");
          }
          Set<String> fields = new LinkedHashSet<>();
          Iterator<InputRow> inputs = records == null ? null : records(records, fields);
          return new JobService.Submission(SpecParser.readTree(spec), inputs, fields, null);
        });
  }

  /** A records part: JSONL, or CSV or Parquet by its file name or content type (Parquet through a temporary file). */
  private static Iterator<InputRow> records(Multipart.FormData.BodyPart.Strict part, Set<String> fields) {
    String name = part.getFilename().orElse("");
    String type = part.getEntity().getContentType().mediaType().toString();
    InputFiles.Format format = type.equals("text/csv") ? InputFiles.Format.CSV
        : type.contains("parquet") ? InputFiles.Format.PARQUET : InputFiles.Format.of(name);
    try {
      return switch (format) {
        case CSV -> InputFiles.csv(new StringReader(utf8(part.getEntity().getData(), "records")), fields);
        case PARQUET -> {
          java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("skein-records");
          java.nio.file.Path file = dir.resolve(name.matches("[A-Za-z0-9_.-]{1,100}") ? name : "records.parquet");
          try {
            java.nio.file.Files.write(file, part.getEntity().getData().toArray());
            List<InputRow> rows = new ArrayList<>();
            InputFiles.parquet(file, fields).forEachRemaining(rows::add);
            yield rows.iterator();
          } finally {
            java.nio.file.Files.deleteIfExists(file);
            java.nio.file.Files.deleteIfExists(dir);
          }
        }
        case JSONL -> InputLines.fromJsonl(new java.io.ByteArrayInputStream(part.getEntity().getData().toArray()), fields);
      };
    } catch (java.io.IOException | RuntimeException e) {
      throw new SpecException("records", "cannot read the records as " + format.name().toLowerCase(java.util.Locale.ROOT) + ": " + e.getMessage());
    }
  }

}
