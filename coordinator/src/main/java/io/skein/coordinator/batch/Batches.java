package io.skein.coordinator.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.spec.SpecException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * OpenAI's Batch API over Skein's jobs: a batch is a job of one-call records, one per line of its
 * input file, each running {@code kind: request} with the line's {@code body}; its status and counts
 * are the job's, its output and error files the job's ledger rows written as OpenAI's lines. Every
 * guarantee of a job holds (journaled calls, node loss, the cache, the shared rate budget, fair
 * share between jobs). Failures a client made are {@link ApiError}s, answered as OpenAI answers them.
 */
public final class Batches {

  public static final String CHAT = "/v1/chat/completions";
  public static final String EMBEDDINGS = "/v1/embeddings";
  private static final int PAGE = 1000;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final BatchStore store;
  private final JobService jobs;
  private final Executor blocking;
  private final long maxRequests;

  /** {@code maxRequests}: the most requests one input file may hold ({@code skein.batch.max-requests}). */
  public Batches(BatchStore store, JobService jobs, Executor blocking, long maxRequests) {
    this.store = store;
    this.jobs = jobs;
    this.blocking = blocking;
    this.maxRequests = maxRequests;
  }

  public BatchStore store() {
    return store;
  }

  /** A client's mistake, answered as OpenAI does: {@code {error: {message, type, param, code}}} with the status. */
  public static final class ApiError extends RuntimeException {
    public final int status;
    public final String param;
    public final String code;

    public ApiError(int status, String param, String code, String message) {
      super(message);
      this.status = status;
      this.param = param;
      this.code = code;
    }

    static ApiError notFound(String what, String id) {
      return new ApiError(404, null, null, "No such " + what + ": " + id);
    }
  }

  /** A new file's id, as OpenAI's look: {@code file-} and 24 hex digits. */
  public static String newFileId() {
    return newId("file-");
  }

  static String newId(String prefix) {
    byte[] bytes = new byte[12];
    RANDOM.nextBytes(bytes);
    return prefix + HexFormat.of().formatHex(bytes);
  }

  /**
   * {@code POST /v1/batches} by {@code tenant}'s token (null: no tenant's), reading one of the files
   * {@code sees} lets it see: checks the input file's lines; a file with problems makes a batch that
   * has {@code failed} with them (as OpenAI's validation does), else its job starts.
   */
  public CompletionStage<ObjectNode> create(String inputFileId, String endpoint, String window, JsonNode metadata, String tenant,
      Predicate<String> sees) {
    if (inputFileId == null || inputFileId.isBlank()) {
      return CompletableFuture.failedFuture(new ApiError(400, "input_file_id", "missing_required_parameter", "input_file_id is required"));
    }
    if (!CHAT.equals(endpoint) && !EMBEDDINGS.equals(endpoint)) {
      return CompletableFuture.failedFuture(new ApiError(400, "endpoint", "invalid_value", "endpoint must be " + CHAT + " or "
          + EMBEDDINGS + (endpoint == null ? " (it is missing)" : ", got `" + endpoint + "`") + ": Skein's batches serve those two"));
    }
    if (!BatchJson.WINDOW.equals(window)) {
      return CompletableFuture.failedFuture(new ApiError(400, "completion_window", "invalid_value",
          "completion_window must be \"24h\"" + (window == null ? " (it is missing)" : ", got `" + window + "`")));
    }
    if (metadata != null && !metadata.isNull() && !validMetadata(metadata)) {
      return CompletableFuture.failedFuture(new ApiError(400, "metadata", "invalid_value",
          "metadata must be an object of at most 16 string values (keys up to 64 characters, values up to 512)"));
    }
    String meta = metadata == null || metadata.isNull() ? null : metadata.toString();
    return CompletableFuture.supplyAsync(() -> check(inputFileId, endpoint, sees), blocking).thenCompose(lines -> {
      String id = newId("batch_");
      long now = System.currentTimeMillis();
      if (!lines.problems().isEmpty()) {
        return CompletableFuture.completedFuture(failed(id, inputFileId, endpoint, meta, now, lines.problems(), tenant));
      }
      // The batch's row first (validating), then its job, named after it: a node that dies in between
      // leaves a batch whose job is found by its name when it is next read, never a job without a batch.
      BatchStore.BatchRow validating = new BatchStore.BatchRow(id, null, inputFileId, endpoint, window, meta, null, now, null, false,
          tenant);
      return CompletableFuture.runAsync(() -> store.insertBatch(validating), blocking)
          .thenCompose(inserted -> jobs.submit(new JobService.Submission(spec(id, lines.model(), endpoint), rows(inputFileId), fields(),
              null).by(tenant)))
          .handleAsync((job, error) -> {
            if (error == null) {
              store.linkJob(id, job.id());
              return BatchJson.batch(withJob(validating, job.id()), job, false, false);
            }
            Throwable e = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
            BatchLines.Problem problem = e instanceof SpecException spec && spec.getMessage().contains("no provider serves model")
                ? new BatchLines.Problem("model_not_found", spec.getMessage(), "body.model", lines.modelLine())
                : new BatchLines.Problem(e instanceof SpecException ? "invalid_request" : "server_error",
                    e instanceof SpecException ? e.getMessage() : "the batch's job could not be stored: " + e.getMessage(), null, null);
            String errors = BatchJson.problems(List.of(problem));
            store.fail(id, errors);
            return BatchJson.batch(new BatchStore.BatchRow(id, null, inputFileId, endpoint, window, meta, errors, now, null, false, tenant),
                null, false, false);
          }, blocking);
    });
  }

  private static BatchStore.BatchRow withJob(BatchStore.BatchRow b, String jobId) {
    return new BatchStore.BatchRow(b.id(), jobId, b.inputFileId(), b.endpoint(), b.completionWindow(), b.metadata(), b.errors(),
        b.createdAt(), b.cancelledAt(), b.filesMade(), b.tenant());
  }

  private static boolean validMetadata(JsonNode metadata) {
    if (!metadata.isObject() || metadata.size() > 16) {
      return false;
    }
    for (var it = metadata.fields(); it.hasNext(); ) {
      var e = it.next();
      if (e.getKey().length() > 64 || !e.getValue().isTextual() || e.getValue().asText().length() > 512) {
        return false;
      }
    }
    return true;
  }

  private ObjectNode failed(String id, String fileId, String endpoint, String meta, long now, List<BatchLines.Problem> problems,
      String tenant) {
    BatchStore.BatchRow row = new BatchStore.BatchRow(id, null, fileId, endpoint, BatchJson.WINDOW, meta, BatchJson.problems(problems),
        now, null, false, tenant);
    store.insertBatch(row);
    return BatchJson.batch(row, null, false, false);
  }

  /** Reads the input file's lines through {@link BatchLines}. */
  private BatchLines check(String fileId, String endpoint, Predicate<String> sees) {
    BatchStore.FileInfo file = store.file(fileId).filter(f -> sees.test(f.tenant())).orElseThrow(() -> ApiError.notFound("File", fileId));
    if (!file.purpose().equals("batch")) {
      throw new ApiError(400, "input_file_id", "invalid_value", "file " + fileId + " has purpose `" + file.purpose()
          + "`; a batch reads a file uploaded with purpose `batch`");
    }
    BatchLines lines = new BatchLines(endpoint, maxRequests);
    long after = 0;
    for (List<BatchStore.Line> page = store.lines(fileId, after, PAGE); !page.isEmpty(); page = store.lines(fileId, after, PAGE)) {
      for (BatchStore.Line l : page) {
        if (!l.text().isBlank()) {
          lines.check(l.line(), l.text());
        }
        after = l.line();
      }
    }
    return lines;
  }

  /**
   * The job a batch runs: one {@code request} step per record (of chat completions, or embeddings),
   * the model its lines name, the request left out of the rows.
   */
  static JsonNode spec(String batchId, String model, String endpoint) {
    ObjectNode spec = BatchJson.JSON.createObjectNode().put("name", batchId);
    spec.putObject("models").put("batch", model);
    ObjectNode step = spec.putArray("steps").addObject().put("name", "response").put("kind", "request").put("model", "batch");
    if (EMBEDDINGS.equals(endpoint)) {
      step.put("endpoint", "embeddings");
    }
    spec.putArray("processors").addObject().putArray("drop").add("body").add("method").add("url");
    return spec;
  }

  private static Set<String> fields() {
    return new LinkedHashSet<>(List.of("custom_id", "method", "url", "body"));
  }

  /** The input file's lines as the job's records, read a page at a time as the job stores them. */
  private Iterator<InputRow> rows(String fileId) {
    return new Iterator<>() {
      private final java.util.ArrayDeque<BatchStore.Line> page = new java.util.ArrayDeque<>();
      private long after;
      private long index;
      private boolean done;

      @Override
      public boolean hasNext() {
        while (page.isEmpty() && !done) {
          List<BatchStore.Line> next = store.lines(fileId, after, PAGE);
          done = next.size() < PAGE;
          next.stream().filter(l -> !l.text().isBlank()).forEach(page::add);
          after = next.isEmpty() ? after : next.get(next.size() - 1).line();
        }
        return !page.isEmpty();
      }

      @Override
      public InputRow next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return new InputRow(index++, BatchJson.read(page.poll().text()).toString(), null);
      }
    };
  }

  /**
   * {@code GET /v1/batches/{id}}: the batch as its job now stands, if {@code sees} lets the caller see
   * it; an ended job's output and error files are made the first time.
   */
  public CompletionStage<Optional<ObjectNode>> get(String id, Predicate<String> sees) {
    return CompletableFuture.supplyAsync(() -> store.batch(id).filter(b -> sees.test(b.tenant())), blocking).thenCompose(found -> found
        .map(b -> view(b).thenApply(Optional::of))
        .orElseGet(() -> CompletableFuture.completedFuture(Optional.empty())));
  }

  private CompletionStage<ObjectNode> view(BatchStore.BatchRow b) {
    if (b.jobId() == null && b.errors() == null) {
      // Validating, or its node died between the batch's row and its job's link: the job bears its name.
      return CompletableFuture.supplyAsync(() -> jobs.store().latestByName(b.id()), blocking).thenCompose(named -> {
        if (named.isEmpty()) {
          return CompletableFuture.completedFuture(BatchJson.batch(b, null, false, false));
        }
        store.linkJob(b.id(), named.get().getKey().id());
        return view(withJob(b, named.get().getKey().id()));
      });
    }
    if (b.jobId() == null) {
      return CompletableFuture.completedFuture(BatchJson.batch(b, null, false, false));
    }
    return jobs.job(b.jobId()).thenApplyAsync(found -> {
      JobInfo job = found.orElse(null);
      boolean ended = job != null && job.state().isTerminal();
      if (ended && !b.filesMade()) {
        makeFiles(b, job);
      } else if (job != null && !ended && b.filesMade()) {
        // Its job runs again (its failed records retried): its files are made anew when it ends.
        store.unmakeFiles(b.id());
      }
      return BatchJson.batch(b, job, ended && job.counts().succeeded() > 0, ended && job.counts().failed() > 0);
    }, blocking);
  }

  /** Writes down an ended batch's output and error files: their sizes, read once from the ledger. */
  private void makeFiles(BatchStore.BatchRow b, JobInfo job) {
    List<BatchStore.FileInfo> files = new ArrayList<>();
    long now = System.currentTimeMillis();
    if (job.counts().succeeded() > 0) {
      files.add(new BatchStore.FileInfo(BatchJson.outputFileId(b.id()), "batch_output", b.id() + "_output.jsonl",
          bytes(job.id(), true), now, b.id(), b.tenant()));
    }
    if (job.counts().failed() > 0) {
      files.add(new BatchStore.FileInfo(BatchJson.errorFileId(b.id()), "batch_output", b.id() + "_error.jsonl",
          bytes(job.id(), false), now, b.id(), b.tenant()));
    }
    store.filesMade(b.id(), files);
  }

  private long bytes(String jobId, boolean ok) {
    JobService.RowsReader reader = new JobService.RowsReader(jobs.store(), jobId, ok, false);
    long bytes = 0;
    for (List<String> page = reader.next(); !page.isEmpty(); page = reader.next()) {
      for (String row : page) {
        bytes += (ok ? BatchJson.outputLine(jobId, row) : BatchJson.errorLine(jobId, row))
            .getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1;
      }
    }
    return bytes;
  }

  /** {@code GET /v1/batches}: newest first, {@code limit} after the batch {@code after}; {@code tenant} null: every tenant's. */
  public CompletionStage<ObjectNode> list(String after, int limit, String tenant) {
    return CompletableFuture.supplyAsync(() -> store.batches(after, limit + 1, tenant), blocking).thenCompose(rows -> {
      List<CompletableFuture<ObjectNode>> views = rows.stream().limit(limit).map(b -> view(b).toCompletableFuture()).toList();
      return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
          .thenApply(done -> BatchJson.list(views.stream().map(CompletableFuture::join).toList(), rows.size() > limit));
    });
  }

  /** {@code POST /v1/batches/{id}/cancel}: the job is cancelled; 400 once the batch has ended (as OpenAI; the SDKs retry a 409). */
  public CompletionStage<Optional<ObjectNode>> cancel(String id, Predicate<String> sees) {
    return CompletableFuture.supplyAsync(() -> store.batch(id).filter(b -> sees.test(b.tenant())), blocking).thenCompose(found -> {
      if (found.isEmpty()) {
        return CompletableFuture.completedFuture(Optional.<ObjectNode>empty());
      }
      BatchStore.BatchRow b = found.get();
      return (b.jobId() == null ? CompletableFuture.completedFuture(Optional.<JobInfo>empty()) : jobs.job(b.jobId())).thenCompose(job -> {
        String status = BatchJson.status(b, job.orElse(null));
        if (!status.equals("in_progress") && !status.equals("cancelling")) {
          throw new ApiError(400, null, null, "Cannot cancel a batch with status '" + status + "'.");
        }
        store.cancelled(b.id(), System.currentTimeMillis());
        return jobs.cancel(b.jobId()).thenCompose(done -> get(id, sees));
      });
    });
  }

  /**
   * A file's content: an upload's lines as they came, or an ended batch's output or error lines made
   * from its job's ledger rows, in input order. Empty: no such file (or none {@code sees} lets the
   * caller see), or a batch's file whose job, and its rows, are gone.
   */
  public CompletionStage<Optional<Source<String, NotUsed>>> content(String fileId, Predicate<String> sees) {
    return CompletableFuture.supplyAsync(() -> store.file(fileId).filter(f -> sees.test(f.tenant())), blocking).thenCompose(found -> {
      if (found.isEmpty()) {
        return CompletableFuture.completedFuture(Optional.<Source<String, NotUsed>>empty());
      }
      BatchStore.FileInfo file = found.get();
      if (file.batchId() == null) {
        return CompletableFuture.completedFuture(Optional.of(uploaded(fileId)));
      }
      boolean ok = file.id().equals(BatchJson.outputFileId(file.batchId()));
      return CompletableFuture.supplyAsync(() -> store.batch(file.batchId()).filter(b -> b.jobId() != null), blocking)
          .thenCompose(batch -> batch.isEmpty() ? CompletableFuture.completedFuture(Optional.<Source<String, NotUsed>>empty())
              : jobs.job(batch.get().jobId()).thenApply(job -> job.map(j -> jobs.rows(j.id(), ok, false)
                  .map(row -> ok ? BatchJson.outputLine(j.id(), row) : BatchJson.errorLine(j.id(), row)))));
    });
  }

  /** An upload's lines, each as sent (blank ones too), each followed by a newline. */
  private Source<String, NotUsed> uploaded(String fileId) {
    return Source.unfoldAsync(0L, after -> CompletableFuture.supplyAsync(() -> store.lines(fileId, after, PAGE), blocking)
            .thenApply(page -> page.isEmpty() ? Optional.<org.apache.pekko.japi.Pair<Long, List<BatchStore.Line>>>empty()
                : Optional.of(org.apache.pekko.japi.Pair.create(page.get(page.size() - 1).line(), page))))
        .mapConcat(page -> page)
        .map(BatchStore.Line::text);
  }
}
