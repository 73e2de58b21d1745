package io.skein.coordinator.http;

import io.skein.coordinator.job.InputFiles;
import io.skein.coordinator.job.InputLines;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.spec.SpecException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The rows of a multipart {@code records} part, read as the client sends them, on the thread that
 * stores them (reads block): JSONL and CSV straight from the part's bytes, Parquet from the file the
 * part was spooled to. The last row is answered only once the whole request has been read and found
 * well-formed ({@code finished}), so a broken or oversized request is never a job. What cannot be
 * read fails as a {@link SpecException} naming the part, or as {@link Submissions.TooLarge}.
 *
 * <p>{@link #close} after a failure reads the rest of the request away (on {@code drain}): the
 * error then reaches clients that read the answer only once they have sent the whole body, as most
 * do, instead of a reset connection. The request's size limit bounds what is read so.
 */
final class UploadedRows implements Iterator<InputRow>, AutoCloseable {

  private final InputFiles.Format format;
  /** The part's bytes as they arrive (JSONL, CSV); null for Parquet. */
  private final InputStream bytes;
  /** The file the part is spooled to (Parquet); null for the others. */
  private final CompletionStage<Path> spooled;
  private final CompletionStage<Void> finished;
  private final Set<String> fields;
  private final Duration timeout;
  private final Executor drain;
  private Iterator<InputRow> rows;
  private boolean ended;

  UploadedRows(InputFiles.Format format, InputStream bytes, CompletionStage<Path> spooled, CompletionStage<Void> finished,
      Set<String> fields, Duration timeout, Executor drain) {
    this.format = format;
    this.bytes = bytes;
    this.spooled = spooled;
    this.finished = finished;
    this.fields = fields;
    this.timeout = timeout;
    this.drain = drain;
  }

  @Override
  public boolean hasNext() {
    if (ended) {
      return false;
    }
    try {
      if (rows == null) {
        rows = open();
      }
      if (rows.hasNext()) {
        return true;
      }
    } catch (IOException | RuntimeException e) {
      throw failure(e);
    }
    ended = true;
    await(finished);
    return false;
  }

  @Override
  public InputRow next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    try {
      return rows.next();
    } catch (RuntimeException e) {
      throw failure(e);
    }
  }

  @Override
  public void close() {
    if (bytes != null && !ended) {
      drain.execute(() -> {
        try (InputStream in = bytes) {
          in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException gone) {
          // The client went away or the request broke: nothing left to read.
        }
      });
    }
    if (spooled != null) {
      spooled.thenAccept(UploadedRows::delete);
    }
  }

  private Iterator<InputRow> open() throws IOException {
    return switch (format) {
      case JSONL -> InputLines.fromJsonl(bytes, fields);
      case CSV -> InputFiles.csv(utf8(bytes), fields);
      case PARQUET -> InputFiles.parquet(await(spooled), fields);
    };
  }

  /** The part as UTF-8 text; a byte that is not ends the reading with an error row saying so, never a silent U+FFFD. */
  private static Reader utf8(InputStream in) {
    Reader strict = new java.io.InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT));
    return new java.io.FilterReader(strict) {
      @Override
      public int read(char[] buffer, int offset, int length) throws IOException {
        try {
          return super.read(buffer, offset, length);
        } catch (java.nio.charset.CharacterCodingException e) {
          throw new IOException("not UTF-8 text", e);
        }
      }
    };
  }

  private <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw failure(e.getCause());
    } catch (TimeoutException e) {
      throw new SpecException("records", "the request did not end within " + timeout.toSeconds() + " s of its `records` part");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading the upload", e);
    }
  }

  /** What a reading failure is answered as: the limit it passed, the request's flaw, or the records' own. */
  private RuntimeException failure(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof SpecException || e instanceof Submissions.TooLarge) {
        return (RuntimeException) e;
      }
      RuntimeException request = MultipartUpload.requestFailure(e);
      if (request != null) {
        return request;
      }
    }
    return new SpecException("records", "cannot read the records as " + format.name().toLowerCase(Locale.ROOT) + ": " + error.getMessage());
  }

  private static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
      Files.deleteIfExists(file.getParent());
    } catch (IOException e) {
      // A temporary directory: the system cleans it up.
    }
  }
}
