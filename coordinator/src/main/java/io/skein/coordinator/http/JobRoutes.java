package io.skein.coordinator.http;

import static org.apache.pekko.http.javadsl.server.Directives.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.JobInfo;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * The HTTP API (the cluster resource is {@link ClusterRoutes}). The jobs resource: submit ({@code POST /jobs}, JSON or multipart YAML spec plus JSONL records),
 * list, status, results and errors as NDJSON streams, pause, resume and cancel; and the spec
 * language's JSON Schema ({@code GET /schema}). Every error is
 * {@code application/problem+json} naming what was wrong.
 */
public final class JobRoutes {

  private static final ObjectMapper JSON = new ObjectMapper();
  static final ContentType.WithFixedCharset NDJSON =
      ContentTypes.create(MediaTypes.applicationWithFixedCharset("x-ndjson", HttpCharsets.UTF_8));
  private static final long STRICT_TIMEOUT_MS = 60_000;
  private static final int MAX_PREVIEW = 100;
  /** The spec language's JSON Schema, for editors: {@code # yaml-language-server: $schema=http://host:8080/schema}. */
  private static final String SCHEMA = io.skein.worker.step.SpecSchema.get().toPrettyString();

  static final ContentType.Binary PARQUET = ContentTypes.create(MediaTypes.applicationBinary("vnd.apache.parquet", false, "parquet"));

  private final JobService jobs;
  private final Submissions submissions;
  private final Materializer materializer;
  /** Writing a Parquet file reads the ledger and a disk: not on the actors' threads. */
  private final java.util.concurrent.Executor blocking;
  private final ClusterRoutes cluster;
  private final ApiTokens tokens;
  private final RecordHistory history;
  /** OpenAI's Files and Batches APIs under /v1. */
  private final OpenAiRoutes openAi;
  /** Tokens an admin makes at run time. */
  private final TokenRoutes tokenRoutes;
  /** How often a job's event stream reads its status again. */
  private final java.time.Duration eventsEvery;

  /** {@code models}: how this node's model gateways stand, for {@code GET /cluster/models}; {@code tokens}: who may call. */
  public JobRoutes(ActorSystem<?> system, JobService jobs,
      java.util.function.Supplier<CompletionStage<java.util.List<io.skein.worker.gateway.ModelGateway.Stats>>> models, ApiTokens tokens) {
    this.jobs = jobs;
    this.tokens = tokens.withTable(new io.skein.coordinator.store.TokenTable(jobs.store().db()));
    this.materializer = Materializer.matFromSystem(system);
    this.blocking = system.dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking());
    this.tokenRoutes = new TokenRoutes(this.tokens, materializer, blocking);
    var config = system.settings().config();
    long maxRequest = config.hasPath("skein.http.max-request-size") ? config.getBytes("skein.http.max-request-size") : 64L << 20;
    this.submissions = new Submissions(materializer, maxRequest,
        config.hasPath("skein.http.max-upload-size") ? config.getBytes("skein.http.max-upload-size") : maxRequest, blocking);
    this.cluster = new ClusterRoutes(system, models);
    this.history = new RecordHistory(system);
    var batchStore = new io.skein.coordinator.batch.BatchStore(jobs.store().db());
    this.openAi = new OpenAiRoutes(new io.skein.coordinator.batch.Batches(batchStore, jobs, blocking,
            config.hasPath("skein.batch.max-requests") ? config.getLong("skein.batch.max-requests") : 50_000),
        materializer, blocking, config.hasPath("skein.batch.max-file-size") ? config.getBytes("skein.batch.max-file-size") : 200L << 20,
        (int) Math.min(Integer.MAX_VALUE - 8, config.hasPath("skein.batch.max-line-size") ? config.getBytes("skein.batch.max-line-size")
            : 32L << 20));
    this.eventsEvery = config.hasPath("skein.http.events-interval") ? config.getDuration("skein.http.events-interval")
        : java.time.Duration.ofMillis(500);
  }

  /**
   * Every resource and the node's {@code metrics}, under the same problem+json error handling; with
   * API tokens configured, all but {@code /health} (and {@code /metrics} while it is open) ask for one,
   * and what a request sees is its caller's ({@link Caller}).
   */
  public Route route(Route metrics) {
    Route health = path("health", () -> get(() -> complete(HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{\"status\":\"ok\"}")))));
    Route schema = path("schema", () -> get(() -> complete(HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, SCHEMA)))));
    java.util.function.Function<Caller, Route> api = caller -> concat(jobRoutes(caller), openAi.route(caller),
        tokenRoutes.route(caller), caller.admin() ? cluster.route() : pathPrefix("cluster", () -> complete(Problems.of(StatusCodes.FORBIDDEN,
            "the cluster's state is for admin tokens; this token is tenant `" + caller.tenant() + "`'s"))), schema);
    return handleExceptions(exceptions(), () -> handleRejections(rejections(), () -> tokens.metricsOpen()
        ? concat(health, Dashboard.route(), metrics, guarded(api))
        : concat(health, Dashboard.route(), guarded(caller -> concat(api.apply(caller), caller.admin() ? metrics
            : path("metrics", () -> complete(Problems.of(StatusCodes.FORBIDDEN, "the node's metrics are for admin tokens"))))))));
  }

  private Route jobRoutes(Caller caller) {
    return pathPrefix("jobs", () -> concat(
        pathEnd(() -> concat(
            post(() -> parameterOptional("num_records", n -> extractRequest(r -> upload(r, () -> submit(r, n.orElse(null), caller))))),
            get(() -> list(caller)))),
        path("preview", () -> post(() -> parameterOptional("n", n -> parameterOptional("num_records",
            records -> extractRequest(r -> upload(r, () -> preview(r, n.orElse("5"), records.orElse(null), caller))))))),
        pathPrefix(PathMatchers.segment(), id -> visible(caller, id, () -> job(id)))));
  }

  /** {@code inner} for the caller's request (any request when the API asks no token); else 401. */
  private Route guarded(java.util.function.Function<Caller, Route> inner) {
    if (!tokens.required()) {
      return inner.apply(Caller.ANYONE);
    }
    return optionalHeaderValueByName("Authorization", header -> onSuccess(tokens.caller(header.orElse(null), blocking),
        found -> found.map(inner).orElseGet(() -> complete(Problems.of(StatusCodes.UNAUTHORIZED, header.isPresent()
                ? "the Authorization header carries no token this server accepts"
                : "this server asks for a token: send `Authorization: Bearer <token>`")
            .addHeader(HttpHeader.parse("WWW-Authenticate", "Bearer realm=\"skein\""))))));
  }

  /** {@code inner} if the caller may see job {@code id}; else the 404 an unknown job gets (another tenant's job is not told of). */
  private Route visible(Caller caller, String id, java.util.function.Supplier<Route> inner) {
    if (caller.admin()) {
      return inner.get();
    }
    return onSuccess(jobs.owner(id), owner -> owner.isPresent() && caller.sees(owner.get().tenant()) ? inner.get()
        : complete(Problems.notFound("no job `" + id + "`")));
  }

  private Route job(String id) {
    return concat(
        pathEnd(() -> concat(get(() -> status(id)), delete(() -> deleteJob(id)))),
        pathPrefix(PathMatchers.segment("stages").slash(PathMatchers.segment()), stage -> rowRoutes(id, stage)),
        rowRoutes(id, null),
        path("events", () -> get(() -> events(id))),
        path("usage", () -> get(() -> completeWithFuture(jobs.usage(id).thenApply(u -> u.map(JobRoutes::json)
            .orElseGet(() -> Problems.notFound("no job `" + id + "`"))).exceptionally(JobRoutes::problem)))),
        path(PathMatchers.segment("records").slash(PathMatchers.longSegment()), index -> get(() -> history(id, index))),
        path("cancel", () -> post(() -> cancel(id))),
        path("pause", () -> post(() -> control(id, "pause", jobs::pause))),
        path("resume", () -> post(() -> parameterOptional("max_cost", cap -> resume(id, cap.orElse(null))))),
        path("retry-failed", () -> post(() -> retryFailed(id))));
  }

  /** A job's rows (a staged job's: its last stage's), or with {@code stage}, that stage's. */
  private Route rowRoutes(String id, String stage) {
    return concat(
        path("results", () -> get(() -> parameterOptional("annotated", a -> parameterOptional("format",
            f -> f.orElse("jsonl").equals("parquet") ? parquet(id, stage, a.orElse("false")) : rows(id, stage, true, a.orElse("false")))))),
        path("errors", () -> get(() -> parameterOptional("annotated", a -> rows(id, stage, false, a.orElse("false"))))),
        path(PathMatchers.segment("datasets").slash(PathMatchers.segment()), name -> get(() -> dataset(id, stage, name))));
  }

  /** The job whose ledger holds the rows asked for, or a 404 saying what is not there. */
  private CompletionStage<java.util.Optional<JobInfo>> rowsOf(String id, String stage) {
    return jobs.rowsOf(id, stage);
  }

  private static HttpResponse noRows(String id, String stage) {
    return Problems.notFound(stage == null ? "no job `" + id + "`" : "no job `" + id + "` with a stage `" + stage + "`");
  }

  /**
   * A multipart request streams its records for as long as the client sends them: no request
   * timeout (the server's idle timeout still ends a stalled one). Other bodies keep it.
   */
  private static Route upload(HttpRequest request, java.util.function.Supplier<Route> inner) {
    return request.entity().getContentType().mediaType().toString().startsWith("multipart/") ? withoutRequestTimeout(inner) : inner.get();
  }

  /**
   * Runs {@code use} on a submission, then lets go of its records: an upload's stream is closed (its
   * unread rest read away) however the job or preview ended, so the answer reaches the client.
   */
  private static <T> CompletionStage<T> using(JobService.Submission s, java.util.function.Function<JobService.Submission, CompletionStage<T>> use) {
    CompletionStage<T> result;
    try {
      result = use.apply(s);
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    return result.whenComplete((ok, error) -> {
      if (s.inputs() instanceof AutoCloseable rows) {
        try {
          rows.close();
        } catch (Exception ignored) {
          // Closing an upload only reads its rest away; nothing to answer.
        }
      }
    });
  }

  /** A spec, or a Data Designer config ({@code numRecords}: its create(num_records=...)), as a new job of the caller's tenant. */
  private Route submit(HttpRequest request, String numRecords, Caller caller) {
    CompletionStage<HttpResponse> response = submissions.parse(request).thenCompose(s -> using(s, given -> {
      Imports.Imported imported = Imports.of(given, numRecords);
      return jobs.submit(imported.submission().by(caller.tenant())).thenApply(job -> {
        var body = JSON.createObjectNode().put("id", job.id());
        if (imported.gapsJson() != null) {
          body.set("not_carried_over", imported.gapsJson());
        }
        return HttpResponse.create().withStatus(StatusCodes.CREATED).addHeader(Location.create("/jobs/" + job.id()))
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
      });
    }));
    return completeWithFuture(response.exceptionally(JobRoutes::problem));
  }

  /** {@code POST /jobs/preview?n=5}: the rows of the first n records, as a JSON array, keeping no job. */
  private Route preview(HttpRequest request, String n, String numRecords, Caller caller) {
    int count;
    try {
      count = Integer.parseInt(n);
    } catch (NumberFormatException e) {
      return complete(Problems.of(StatusCodes.BAD_REQUEST, "n must be a whole number of records, got `" + n + "`"));
    }
    if (count < 1 || count > MAX_PREVIEW) {
      return complete(Problems.of(StatusCodes.BAD_REQUEST, "n must be between 1 and " + MAX_PREVIEW + ", got " + count));
    }
    // The first records are read on a blocking thread: an upload's arrive as the client sends them.
    CompletionStage<HttpResponse> response = submissions.parse(request)
        .thenComposeAsync(s -> using(s, given -> jobs.preview(Imports.of(given, numRecords).submission().by(caller.tenant()), count)),
            blocking)
        .thenApply(rows -> {
      ArrayNode array = JSON.createArrayNode();
      rows.forEach(array::add);
      return json(array);
    });
    return completeWithFuture(response.exceptionally(JobRoutes::problem));
  }

  private Route list(Caller caller) {
    return completeWithFuture(jobs.jobs(caller.only()).thenApply(all -> {
      ArrayNode array = JSON.createArrayNode();
      all.forEach(j -> array.add(JobJson.status(j)));
      return json(JSON.createObjectNode().set("jobs", array));
    }).exceptionally(JobRoutes::problem));
  }

  private Route status(String id) {
    return completeWithFuture(jobs.status(id).thenApply(job -> job
        .map(JobRoutes::json)
        .orElseGet(() -> Problems.notFound("no job `" + id + "`"))).exceptionally(JobRoutes::problem));
  }

  /** {@code GET /jobs/{id}/events}: the job's status as Server-Sent Events until it ends ({@link JobEvents}). */
  private Route events(String id) {
    return onSuccess(jobs.status(id), job -> job
        .<Route>map(first -> completeOK(JobEvents.of(jobs, id, first, eventsEvery),
            org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling.toEventStream()))
        .orElseGet(() -> complete(Problems.notFound("no job `" + id + "`"))));
  }

  /** {@code GET /jobs/{id}/records/{index}}: the record's journal, every event in order ({@link RecordHistory}). */
  private Route history(String id, long index) {
    return completeWithFuture(jobs.job(id).thenCompose(job -> {
      if (job.isEmpty()) {
        return CompletableFuture.completedFuture(Problems.notFound("no job `" + id + "`"));
      }
      return history.events(id, index).thenApply(events -> events.isEmpty()
          ? Problems.notFound("job `" + id + "` has no record " + index + " in its journal (records are numbered from 0; "
              + "a record appears once it has started)")
          : json(JSON.createObjectNode().put("job", id).put("index", index).set("events", events)));
    }).exceptionally(JobRoutes::problem));
  }

  private Route rows(String id, String stage, boolean ok, String annotated) {
    boolean withDetail = annotated.equals("true") || annotated.equals("1");
    return completeWithFuture(rowsOf(id, stage).thenApply(job -> {
      if (job.isEmpty()) {
        return noRows(id, stage);
      }
      var source = jobs.rows(job.get().id(), ok, withDetail).map(line -> ByteString.fromString(line + "\n"));
      return HttpResponse.create().withEntity(HttpEntities.createChunked(NDJSON, source));
    }).exceptionally(JobRoutes::problem));
  }

  /** {@code GET /jobs/{id}/results?format=parquet}: the output rows as one Parquet file (written to a temporary file first). */
  private Route parquet(String id, String stage, String annotated) {
    boolean withDetail = annotated.equals("true") || annotated.equals("1");
    return completeWithFuture(rowsOf(id, stage).thenComposeAsync(found -> {
      if (found.isEmpty()) {
        return CompletableFuture.completedFuture(noRows(id, stage));
      }
      String rowsId = found.get().id();
      try {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("skein-" + id, ".parquet");
        io.skein.coordinator.job.ParquetRows.write(() -> JobService.json(new JobService.RowsReader(jobs.store(), rowsId, true, withDetail)), file);
        var source = org.apache.pekko.stream.javadsl.FileIO.fromPath(file)
            .watchTermination((mat, done) -> done.whenComplete((ok, error) -> file.toFile().delete()));
        return CompletableFuture.completedFuture(HttpResponse.create().withEntity(HttpEntities.createChunked(PARQUET, source))
            .addHeader(org.apache.pekko.http.javadsl.model.headers.ContentDisposition.create(
                org.apache.pekko.http.javadsl.model.headers.ContentDispositionTypes.ATTACHMENT, java.util.Map.of("filename", rowsId + ".parquet"))));
      } catch (java.io.IOException e) {
        return CompletableFuture.<HttpResponse>failedFuture(e);
      }
    }, blocking).exceptionally(JobRoutes::problem));
  }

  /** The dataset of a job with a target that holds the rows passed beyond it. */
  static final String EXTRAS = JobJson.EXTRAS;

  /** {@code GET /jobs/{id}/datasets/{name}}: a processor's dataset (or a target's {@code extras}) as NDJSON, in record order. */
  private Route dataset(String id, String stage, String name) {
    return completeWithFuture(rowsOf(id, stage).thenApply(job -> {
      if (job.isEmpty()) {
        return noRows(id, stage);
      }
      if (name.equals(EXTRAS) && job.get().target() > 0) {
        var extras = jobs.extrasRows(job.get().id()).map(line -> ByteString.fromString(line + "\n"));
        return HttpResponse.create().withEntity(HttpEntities.createChunked(NDJSON, extras));
      }
      List<String> names = JobJson.datasets(job.get());
      if (!names.contains(name)) {
        return Problems.notFound("job `" + id + "` has no dataset `" + name + "`" + SpecParser.suggest(name, names)
            + " (its datasets: " + names + ")");
      }
      var source = jobs.datasetRows(job.get().id(), name).map(line -> ByteString.fromString(line + "\n"));
      return HttpResponse.create().withEntity(HttpEntities.createChunked(NDJSON, source));
    }).exceptionally(JobRoutes::problem));
  }

  /** {@code DELETE /jobs/{id}}: 204 once an ended job and all it keeps are gone; 404 unknown, 409 not ended yet. */
  private Route deleteJob(String id) {
    return completeWithFuture(jobs.delete(id).thenApply(outcome -> switch (outcome) {
      case DELETED -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
      case NOT_FOUND -> Problems.notFound("no job `" + id + "`");
      case NOT_ENDED -> Problems.of(StatusCodes.CONFLICT, "job `" + id + "` has not ended: cancel it first (POST /jobs/" + id + "/cancel)");
      case STOPPING -> Problems.of(StatusCodes.CONFLICT, "job `" + id + "` was cancelled moments ago and its records are still"
          + " stopping: delete it again in a few seconds");
    }).exceptionally(JobRoutes::problem));
  }

  private Route cancel(String id) {
    CompletionStage<HttpResponse> response = jobs.job(id).thenCompose(job -> {
      if (job.isEmpty()) {
        return CompletableFuture.completedFuture(Problems.notFound("no job `" + id + "`"));
      }
      if (job.get().state().isTerminal() && job.get().state() != io.skein.protocol.JobProtocol.JobState.CANCELLED) {
        return CompletableFuture.completedFuture(Problems.of(StatusCodes.CONFLICT,
            "job `" + id + "` has already " + job.get().state().wireName()));
      }
      return jobs.cancel(id).thenCompose(done -> jobs.status(id)).thenApply(j -> json(j.orElseThrow()));
    });
    return completeWithFuture(response.exceptionally(JobRoutes::problem));
  }

  /** {@code POST /jobs/{id}/resume[?max_cost=N]}: a resume that may raise the job's max_cost (dollars). */
  private Route resume(String id, String maxCost) {
    Double cap = null;
    if (maxCost != null) {
      try {
        cap = Double.parseDouble(maxCost);
      } catch (NumberFormatException e) {
        cap = Double.NaN;
      }
      if (!(cap > 0) || cap.isInfinite()) {
        return complete(Problems.of(StatusCodes.BAD_REQUEST, "max_cost must be a positive number of dollars, got `" + maxCost + "`"));
      }
    }
    Double given = cap;
    return control(id, "resume", job -> jobs.resume(job, given));
  }

  /**
   * {@code POST /jobs/{id}/retry-failed}: an ended job's failed records run again from their last
   * answered call. 404 for an unknown job, 409 for one that cannot be retried (saying why), else
   * the job's status, running again.
   */
  private Route retryFailed(String id) {
    CompletionStage<HttpResponse> response = jobs.job(id).thenCompose(job -> job.isEmpty()
        ? CompletableFuture.completedFuture(Problems.notFound("no job `" + id + "`"))
        : jobs.retryFailed(job.get()).thenCompose(done -> jobs.status(id)).thenApply(s -> json(s.orElseThrow())));
    return completeWithFuture(response.exceptionally(JobRoutes::problem));
  }

  /** Pause or resume: 404 for an unknown job, 409 for one that has ended, else the job's status once the change is in its row. */
  private Route control(String id, String verb, java.util.function.Function<String, CompletionStage<org.apache.pekko.Done>> action) {
    CompletionStage<HttpResponse> response = jobs.job(id).thenCompose(job -> {
      if (job.isEmpty()) {
        return CompletableFuture.completedFuture(Problems.notFound("no job `" + id + "`"));
      }
      if (job.get().state().isTerminal()) {
        return CompletableFuture.completedFuture(Problems.of(StatusCodes.CONFLICT,
            "job `" + id + "` has already " + job.get().state().wireName() + "; there is nothing to " + verb));
      }
      return action.apply(id).thenCompose(done -> jobs.status(id)).thenApply(j -> json(j.orElseThrow()));
    });
    return completeWithFuture(response.exceptionally(JobRoutes::problem));
  }

  private static HttpResponse json(JsonNode body) {
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
  }

  /** Maps a failure to a problem: bad specs and records are 400, oversized requests 413. */
  static HttpResponse problem(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof SpecException spec) {
      return Problems.of(StatusCodes.BAD_REQUEST, "the job cannot run: " + spec.getMessage(), spec.errors());
    }
    if (e instanceof Submissions.TooLarge large) {
      return Problems.of(StatusCodes.PAYLOAD_TOO_LARGE, large.getMessage());
    }
    if (e instanceof Submissions.UnsupportedMedia media) {
      return Problems.of(StatusCodes.UNSUPPORTED_MEDIA_TYPE, media.getMessage());
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException size) {
      return Problems.of(StatusCodes.PAYLOAD_TOO_LARGE, "the request is larger than this server accepts ("
          + size.limit() + " bytes); raise skein.http.max-request-size or split the job");
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamException stream && String.valueOf(stream.getMessage()).contains("too large")) {
      return Problems.of(StatusCodes.PAYLOAD_TOO_LARGE, stream.getMessage() + "; raise skein.http.max-request-size or split the job");
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.ParsingException
        || e instanceof org.apache.pekko.http.scaladsl.model.EntityStreamException) {
      return Problems.of(StatusCodes.BAD_REQUEST, "malformed request: " + e.getMessage());
    }
    if (e instanceof org.apache.pekko.http.scaladsl.model.IllegalRequestException
        || e instanceof org.apache.pekko.http.scaladsl.unmarshalling.Unmarshaller.UnsupportedContentTypeException) {
      return Problems.of(StatusCodes.BAD_REQUEST, e.getMessage());
    }
    if (e instanceof org.apache.pekko.pattern.StatusReply.ErrorMessage msg) {
      return Problems.of(StatusCodes.CONFLICT, msg.getMessage());
    }
    return Problems.of(StatusCodes.INTERNAL_SERVER_ERROR, "internal error: " + e);
  }

  private static ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder().matchAny(e -> complete(problem(e))).build();
  }

  private static RejectionHandler rejections() {
    return RejectionHandler.defaultHandler().mapRejectionResponse(response -> {
      if (response.entity().getContentType().mediaType().toString().equals("application/problem+json")) {
        return response;
      }
      String detail = response.entity() instanceof HttpEntity.Strict s ? s.getData().utf8String() : response.status().reason();
      return Problems.of(response.status(), detail);
    });
  }
}
