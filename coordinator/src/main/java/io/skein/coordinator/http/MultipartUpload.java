package io.skein.coordinator.http;

import io.skein.coordinator.job.InputFiles;
import io.skein.coordinator.job.JobService;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.FileIO;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamConverters;

/**
 * A multipart job read as it arrives, part by part (Pekko HTTP's streamed multipart): the
 * {@code spec} part, small, is read whole under {@code skein.http.max-request-size} and must come
 * first; the {@code records} part is never held: its rows are read from its bytes as the job is
 * stored ({@link UploadedRows}), Parquet through a temporary file. The whole request is bounded by
 * {@code skein.http.max-upload-size} instead (the caller raises the entity's limit to it).
 *
 * <p>The submission is answered as soon as the records part begins; a problem found before (a spec
 * part too large or not UTF-8, records before the spec, a part given twice or unknown) fails it at
 * once, one found after (a later part, a broken or oversized body) fails the records' last read. The
 * parts that are not used are read away, so the answer reaches a client still sending.
 */
final class MultipartUpload {

  private static final long STRICT_TIMEOUT_MS = 60_000;
  /** How long a read of the records waits for the client's next bytes: the server's idle timeout. */
  private static final Duration READ_TIMEOUT = Duration.ofMinutes(5);
  private static final String PARTS = "send `spec` (YAML or JSON) and `records` (JSONL, or a .csv or .parquet file)";

  private final Materializer materializer;
  private final long maxRequest;
  private final Executor blocking;
  private final CompletableFuture<JobService.Submission> ready = new CompletableFuture<>();
  private final CompletableFuture<Void> finished = new CompletableFuture<>();
  private com.fasterxml.jackson.databind.JsonNode spec;
  private boolean records;
  /** A problem found once the records were handed on: the records' last read fails with it. */
  private RuntimeException late;

  private MultipartUpload(Materializer materializer, long maxRequest, Executor blocking) {
    this.materializer = materializer;
    this.maxRequest = maxRequest;
    this.blocking = blocking;
  }

  /**
   * The submission a multipart entity sends. The entity's limit (the server's
   * {@code max-content-length}, which JSON bodies keep) is raised to {@code maxUpload} for this request.
   */
  static CompletionStage<JobService.Submission> read(HttpEntity entity, Materializer materializer, long maxRequest, long maxUpload,
      Executor blocking) {
    MultipartUpload upload = new MultipartUpload(materializer, maxRequest, blocking);
    Unmarshaller.entityToMultipartFormData().unmarshal(entity.withSizeLimit(maxUpload), materializer)
        .thenCompose(form -> upload.parts(form).runWith(Sink.foreachAsync(1, upload::take), materializer))
        .whenComplete((done, error) -> upload.end(error));
    return upload.ready;
  }

  @SuppressWarnings("unchecked")
  private Source<Multipart.FormData.BodyPart, Object> parts(Multipart.FormData form) {
    return (Source<Multipart.FormData.BodyPart, Object>) form.getParts();
  }

  /** One part, in the order sent; the next is not read before this one's bytes are taken. */
  private synchronized CompletionStage<Void> take(Multipart.FormData.BodyPart part) {
    String name = part.getName();
    String refused = name.equals("spec") && spec != null || name.equals("records") && records ? "given twice: send one `" + name + "` part"
        : name.equals("records") && spec == null ? "came before the `spec` part: send `spec` first, then `records`"
        : !name.equals("spec") && !name.equals("records") ? "unknown part: " + PARTS
        : null;
    if (refused != null || ready.isDone()) {
      if (refused != null) {
        fail(new SpecException(name, refused));
      }
      return part.getEntity().discardBytes(materializer).completionStage().thenApply(done -> null);
    }
    if (name.equals("spec")) {
      return part.getEntity().toStrict(STRICT_TIMEOUT_MS, maxRequest, materializer).handle((strict, error) -> {
        try {
          if (error != null) {
            throw error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
          }
          spec = SpecParser.readTree(Submissions.utf8(strict.getData(), "spec"));
        } catch (org.apache.pekko.http.scaladsl.model.EntityStreamSizeException size) {
          fail(size.limit() != maxRequest ? requestFailure(size) : specTooLarge());
        } catch (org.apache.pekko.http.scaladsl.model.EntityStreamException stream) {
          // toStrict's own cap says "Request too large" this way.
          fail(String.valueOf(stream.getMessage()).contains("too large") ? specTooLarge() : requestFailure(stream));
        } catch (Throwable e) {
          fail(e instanceof RuntimeException r ? r : new SpecException("spec", "cannot read the part: " + e.getMessage()));
        }
        return null;
      });
    }
    records = true;
    return records(part);
  }

  private Submissions.TooLarge specTooLarge() {
    return new Submissions.TooLarge("the `spec` part is larger than this server accepts (" + maxRequest
        + " bytes); raise skein.http.max-request-size (SKEIN_MAX_REQUEST_SIZE)");
  }

  /** Hands the records on as they arrive (Parquet once spooled); the part is taken once its bytes end. */
  private CompletionStage<Void> records(Multipart.FormData.BodyPart part) {
    String file = part.getFilename().orElse("");
    String type = part.getEntity().getContentType().mediaType().toString();
    InputFiles.Format format = type.equals("text/csv") ? InputFiles.Format.CSV
        : type.contains("parquet") ? InputFiles.Format.PARQUET : InputFiles.Format.of(file);
    Set<String> fields = new LinkedHashSet<>();
    Source<org.apache.pekko.util.ByteString, Object> data = part.getEntity().getDataBytes();
    CompletionStage<Void> taken;
    UploadedRows rows;
    if (format == InputFiles.Format.PARQUET) {
      Path path;
      try {
        path = java.nio.file.Files.createTempDirectory("skein-records").resolve(file.matches("[A-Za-z0-9_.-]{1,100}") ? file : "records.parquet");
      } catch (java.io.IOException e) {
        fail(new IllegalStateException("cannot spool the Parquet records: " + e.getMessage(), e));
        return part.getEntity().discardBytes(materializer).completionStage().thenApply(done -> null);
      }
      CompletionStage<Path> spooled = data.runWith(FileIO.toPath(path), materializer).thenApply(io -> path);
      rows = new UploadedRows(format, null, spooled, finished, fields, READ_TIMEOUT, blocking);
      taken = spooled.handle((p, error) -> null);
    } else {
      Pair<CompletionStage<Done>, InputStream> run = data.watchTermination(Keep.right())
          .toMat(StreamConverters.asInputStream(READ_TIMEOUT), Keep.both()).run(materializer);
      rows = new UploadedRows(format, run.second(), null, finished, fields, READ_TIMEOUT, blocking);
      taken = run.first().handle((done, error) -> null);
    }
    ready.complete(new JobService.Submission(spec, rows, fields, null));
    return taken;
  }

  private synchronized void fail(RuntimeException e) {
    if (!ready.completeExceptionally(e) && late == null) {
      late = e;
    }
  }

  /** Every part read (or the request broken): settles what is still open. */
  private synchronized void end(Throwable error) {
    if (error != null) {
      Throwable e = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
      RuntimeException request = requestFailure(e);
      if (request instanceof Submissions.TooLarge && spec == null && !records && atLimit(e, maxRequest)) {
        // The spec part's own limit broke the request too, and this may be heard before its read says so.
        request = specTooLarge();
      }
      fail(request != null ? request : malformed(e.getMessage()));
    } else if (spec == null) {
      fail(new SpecException("spec", "missing: the multipart request needs a `spec` part (YAML or JSON)"));
    }
    ready.complete(new JobService.Submission(spec, null, new LinkedHashSet<>(), null));
    if (late != null) {
      finished.completeExceptionally(late);
    } else {
      finished.complete(null);
    }
  }

  /**
   * A failure of the request itself, as answered: over its size limit (413, naming
   * {@code skein.http.max-upload-size}), or malformed (400); null for any other.
   */
  static RuntimeException requestFailure(Throwable e) {
    if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException size) {
      return new Submissions.TooLarge("the upload is larger than this server accepts (" + size.limit() + " bytes);"
          + " raise skein.http.max-upload-size (SKEIN_MAX_UPLOAD_SIZE) or split the job");
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamException stream) {
      return String.valueOf(stream.getMessage()).contains("too large")
          ? new Submissions.TooLarge(stream.getMessage() + "; raise skein.http.max-upload-size (SKEIN_MAX_UPLOAD_SIZE) or split the job")
          : malformed(stream.getMessage());
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.ParsingException parsing) {
      return malformed(parsing.getMessage());
    }
    return null;
  }

  /** Whether {@code e} is a size failure at {@code limit} bytes (the spec part's, not the upload's). */
  private static boolean atLimit(Throwable e, long limit) {
    return e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException size ? size.limit() == limit
        : String.valueOf(e.getMessage()).contains("maximum of " + limit);
  }

  private static SpecException malformed(String why) {
    return new SpecException("", "malformed multipart/form-data body: " + why + " (send parts `spec` and `records` with a boundary,"
        + " as curl -F does)");
  }
}
