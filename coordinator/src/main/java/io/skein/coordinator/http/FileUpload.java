package io.skein.coordinator.http;

import io.skein.coordinator.batch.BatchStore;
import io.skein.coordinator.batch.Batches;
import io.skein.coordinator.batch.Batches.ApiError;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Framing;
import org.apache.pekko.stream.javadsl.FramingTruncation;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * {@code POST /v1/files} as OpenAI's SDKs send it: multipart {@code purpose} and {@code file}, in
 * either order. The file's lines are streamed into {@code skein_file_lines} as they arrive (never
 * held whole; a line may hold {@code maxLine} bytes), each as sent and with its line number; the
 * file's row is written last, so a file is never seen half-stored. An upload that fails removes its
 * lines again, once the insert in flight has ended; one whose node dies is swept by retention
 * ({@code skein_uploads} marks it meanwhile).
 */
final class FileUpload {

  private static final long STRICT_TIMEOUT_MS = 60_000;
  private static final int BATCH = 500;

  private final BatchStore store;
  private final Materializer materializer;
  private final Executor blocking;
  private final long maxFileSize;
  private final int maxLine;
  /** The insert of lines in flight (one at a time): an upload that fails waits for it before removing its lines. */
  private volatile CompletableFuture<Void> inserting = CompletableFuture.completedFuture(null);
  /** Whose the file is (null: no tenant's). */
  private final String tenant;
  private final String id = Batches.newFileId();
  private final AtomicLong bytes = new AtomicLong();
  private volatile String purpose;
  private volatile String filename;

  private FileUpload(BatchStore store, Materializer materializer, Executor blocking, long maxFileSize, int maxLine, String tenant) {
    this.maxLine = maxLine;
    this.tenant = tenant;
    this.store = store;
    this.materializer = materializer;
    this.blocking = blocking;
    this.maxFileSize = maxFileSize;
  }

  /** The stored file, or an {@link ApiError} saying what was wrong with the request. */
  static CompletionStage<BatchStore.FileInfo> read(HttpEntity entity, BatchStore store, Materializer materializer, Executor blocking,
      long maxFileSize, int maxLine, String tenant) {
    if (!entity.getContentType().mediaType().toString().startsWith("multipart/form-data")) {
      entity.discardBytes(materializer);
      return CompletableFuture.failedFuture(new ApiError(400, null, "invalid_request",
          "upload a file as multipart/form-data with parts `purpose` (batch) and `file`"));
    }
    FileUpload upload = new FileUpload(store, materializer, blocking, maxFileSize, maxLine, tenant);
    return CompletableFuture.runAsync(() -> store.beginUpload(upload.id), blocking)
        .thenCompose(begun -> Unmarshaller.entityToMultipartFormData().unmarshal(entity.withSizeLimit(maxFileSize + 64 * 1024), materializer))
        .thenCompose(form -> upload.parts(form).runWith(Sink.foreachAsync(1, upload::take), materializer))
        .handleAsync((done, error) -> upload.end(error), blocking);
  }

  @SuppressWarnings("unchecked")
  private Source<Multipart.FormData.BodyPart, Object> parts(Multipart.FormData form) {
    return (Source<Multipart.FormData.BodyPart, Object>) form.getParts();
  }

  private CompletionStage<Void> take(Multipart.FormData.BodyPart part) {
    if (part.getName().equals("purpose")) {
      return part.getEntity().toStrict(STRICT_TIMEOUT_MS, 1024, materializer).thenAccept(s -> purpose = s.getData().utf8String().strip());
    }
    if (!part.getName().equals("file") || filename != null) {
      // Fields OpenAI's API has and Skein does not use (expires_after...) are read away.
      return part.getEntity().discardBytes(materializer).completionStage().thenApply(done -> null);
    }
    filename = part.getFilename().orElse("upload.jsonl");
    AtomicLong line = new AtomicLong();
    return part.getEntity().getDataBytes()
        .map(chunk -> {
          if (bytes.addAndGet(chunk.size()) > maxFileSize) {
            throw tooLarge();
          }
          return chunk;
        })
        .via(Framing.delimiter(ByteString.fromString("\n"), (int) Math.min(maxLine, maxFileSize), FramingTruncation.ALLOW))
        .map(frame -> new BatchStore.Line(line.incrementAndGet(), utf8(frame, line.get())))
        .grouped(BATCH)
        .mapAsync(1, lines -> inserting = CompletableFuture.runAsync(() -> store.insertLines(id, lines), blocking))
        .runWith(Sink.ignore(), materializer)
        .thenApply(done -> null);
  }

  private ApiError tooLarge() {
    return new ApiError(413, "file", "file_too_large", "the file is larger than this server accepts (" + maxFileSize
        + " bytes, skein.batch.max-file-size)");
  }

  private static String utf8(ByteString frame, long line) {
    ByteBuffer in = frame.asByteBuffer();
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(in).toString();
    } catch (CharacterCodingException e) {
      throw new ApiError(400, "file", "invalid_file", "line " + line + " of the file is not UTF-8 text (byte " + (in.position() + 1) + ")");
    }
  }

  /** Every part read, or the request broken: the file's row, or its lines removed and the failure said. */
  private BatchStore.FileInfo end(Throwable error) {
    RuntimeException problem = error == null ? missing() : failure(error);
    try {
      if (problem != null) {
        inserting.handle((done, failed) -> null).join();
        store.deleteLines(id);
        throw problem;
      }
      BatchStore.FileInfo file = new BatchStore.FileInfo(id, purpose, filename, bytes.get(), System.currentTimeMillis(), null, tenant);
      store.insertFile(file);
      return file;
    } finally {
      store.endUpload(id);
    }
  }

  private RuntimeException missing() {
    if (filename == null) {
      return new ApiError(400, "file", "missing_required_parameter", "file is required: send the JSONL as a multipart `file` part");
    }
    if (purpose == null) {
      return new ApiError(400, "purpose", "missing_required_parameter", "purpose is required: send `purpose=batch`");
    }
    if (!purpose.equals("batch")) {
      return new ApiError(400, "purpose", "invalid_value", "Skein keeps files for batches only: purpose must be `batch`, got `" + purpose
          + "`");
    }
    return null;
  }

  private RuntimeException failure(Throwable error) {
    Throwable e = error;
    while (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof ApiError api) {
      return api;
    }
    String message = String.valueOf(e.getMessage());
    if (e instanceof org.apache.pekko.stream.scaladsl.Framing.FramingException) {
      return new ApiError(413, "file", "line_too_large", "a line of the file is longer than this server accepts (" + Math.min(maxLine,
          maxFileSize) + " bytes, skein.batch.max-line-size)");
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException || message.contains("too large")) {
      return tooLarge();
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.ParsingException
        || e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamException) {
      return new ApiError(400, null, "invalid_request", "malformed multipart/form-data body: " + message);
    }
    return e instanceof RuntimeException r ? r : new IllegalStateException(e);
  }
}
