package io.skein.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.JobProtocol;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.protocol.spec.PipelineSpec;
import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.Stages;
import io.skein.worker.entity.Preview;
import io.skein.worker.gateway.ModelAccess;
import io.skein.worker.entity.RecordInput;
import io.skein.worker.plan.PipelinePlan;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.javadsl.Source;

/**
 * What the HTTP API and the CLI do with jobs: submit (check the spec against its records, store
 * the records batch by batch and then the job, start the coordinator), read status and results from the database
 * (never by asking a possibly recovering actor), pause, resume, cancel, and wake running jobs at node start.
 *
 * <p>Size: the node's one entry to jobs (submit, preview, control, rows); the row readers at its end
 * could move to their own class.
 */
public final class JobService {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  /**
   * A job to submit: its spec tree, its records (null: take them from the spec), an optional
   * fingerprint (what `skein run` finds it again by) and its parts' fingerprints (null: made of the
   * spec alone, the records unknown).
   */
  public record Submission(JsonNode spec, Iterator<InputRow> inputs, Set<String> fields, String fingerprint, Fingerprints parts,
      String tenant) {
    public Submission(JsonNode spec, Iterator<InputRow> inputs, Set<String> fields, String fingerprint, Fingerprints parts) {
      this(spec, inputs, fields, fingerprint, parts, null);
    }

    public Submission(JsonNode spec, Iterator<InputRow> inputs, Set<String> fields, String fingerprint) {
      this(spec, inputs, fields, fingerprint, null);
    }

    /** This submission made by {@code tenant}'s token: the job is that tenant's (null: no tenant's). */
    public Submission by(String owner) {
      return new Submission(spec, inputs, fields, fingerprint, parts, owner);
    }

    Fingerprints partsOrSpec() {
      return parts != null ? parts : Fingerprints.of(spec, null, spec.path("input").has("limit") ? spec.path("input").get("limit").asLong() : null);
    }
  }

  private final io.skein.worker.tools.ToolAccess tools;
  private final ActorSystem<?> system;
  private final JobStore store;
  private final Preview preview;
  private final ModelAccess models;
  private final int defaultMaxInFlight;
  /** The most records one job may have on this server ({@code skein.job.max-records}). */
  private final long maxRecords;
  private final Duration askTimeout = Duration.ofSeconds(30);
  private final io.skein.coordinator.store.JobRetention retention;
  /** Where submissions read and store their records: an upload's stream blocks while the client sends. */
  private final java.util.concurrent.Executor blocking;

  public JobService(ActorSystem<?> system, JobStore store) {
    this(system, store, null, null);
  }

  /**
   * {@code preview}: runs records without a job ({@code POST /jobs/preview}); {@code models}: the
   * models this node serves, which every model a spec names must be one of. Either null where this
   * node has no models.
   */
  public JobService(ActorSystem<?> system, JobStore store, Preview preview, ModelAccess models) {
    this(system, store, preview, models, io.skein.worker.tools.ToolAccess.NONE);
  }

  /** {@code tools}: the MCP servers this node may reach, which every server a spec names must be one of. */
  public JobService(ActorSystem<?> system, JobStore store, Preview preview, ModelAccess models, io.skein.worker.tools.ToolAccess tools) {
    this.tools = tools;
    this.system = system;
    this.store = store;
    this.preview = preview;
    this.models = models;
    this.defaultMaxInFlight = system.settings().config().getInt("skein.job.max-in-flight");
    this.maxRecords = system.settings().config().hasPath("skein.job.max-records")
        ? system.settings().config().getLong("skein.job.max-records") : Long.MAX_VALUE;
    this.blocking = system.dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking());
    this.retention = new io.skein.coordinator.store.JobRetention(store.db(), system.settings().config().hasPath("skein.record.call-grace")
        ? system.settings().config().getDuration("skein.record.call-grace") : Duration.ofSeconds(30));
  }

  public JobStore store() {
    return store;
  }

  /**
   * Checks and stores a job, then starts it. Fails with {@link SpecException} on a bad spec or input.
   * The records are read and stored on a blocking thread (an upload is read as it arrives), batch by
   * batch ({@link InputWriter}); the job's row comes last, once every input is stored, and a failure
   * before it removes the inputs again: a job is never seen half-stored.
   */
  public CompletionStage<JobInfo> submit(Submission submission) {
    return java.util.concurrent.CompletableFuture.supplyAsync(() -> store(submission), blocking)
        .thenCompose(job -> start(job.id()).thenApply(done -> job));
  }

  private JobInfo store(Submission submission) {
    String id = newId();
    Set<String> fields = submission.fields() == null ? new LinkedHashSet<>() : submission.fields();
    InputWriter writer = new InputWriter(store, maxRecords);
    try {
      if (Stages.isStaged(submission.spec())) {
        return StagedJobs.insert(store, id, submission, fields, this, writer);
      }
      PipelineSpec spec = SpecParser.parse(submission.spec());
      checkModels(spec);
      Stored stored = storeInputs(writer, id, submission, spec, fields);
      PipelinePlan.compile(spec, fields);
      JobInfo job = newJob(id, spec, SpecParser.toJson(SpecParser.withoutInlineRecords(submission.spec())), fields,
          submission.fingerprint(), stored, null);
      return store.db().transaction(c -> {
        store.insertJob(c, job);
        if (submission.tenant() != null) {
          store.setTenant(c, id, submission.tenant());
        }
        store.saveFingerprints(c, id, submission.partsOrSpec().toJson());
        writer.stored(c);
        return job;
      });
    } catch (RuntimeException e) {
      writer.deleteAll(e);
      throw e;
    }
  }

  /** How a job's records were stored: drawn ({@code generated}, none stored) or stored, and how many. */
  record Stored(boolean generated, long total) {}

  /** A job's row as submitted: running, nothing counted yet. */
  JobInfo newJob(String id, PipelineSpec spec, String storedSpec, Set<String> fields, String fingerprint, Stored stored,
      JobInfo.StageInfo stage) {
    long now = System.currentTimeMillis();
    int window = spec.maxInFlight() != null ? spec.maxInFlight() : defaultMaxInFlight;
    return new JobInfo(id, spec.name(), storedSpec, List.copyOf(fields), fingerprint, stored.generated(), stored.total(), window,
        JobState.RUNNING, null, Counts.ZERO, 0, now, now, null, null, null, stage);
  }

  /** Stores the records a submission brings (or its spec holds or draws) as job {@code id}'s inputs, gathering their fields. */
  Stored storeInputs(InputWriter writer, String id, Submission submission, PipelineSpec spec, Set<String> fields) {
    Long drawn = drawn(spec);
    Long asked = drawn == null ? null : Math.min(drawn, spec.input().limit() == null ? Long.MAX_VALUE : spec.input().limit());
    if (asked != null && asked > maxRecords) {
      // Checked before any record is drawn: records cycled up to num_records would otherwise be made first.
      throw InputWriter.tooMany(maxRecords, "input.num_records", String.valueOf(asked));
    }
    Iterator<InputRow> inputs = inputs(submission, spec, fields, true);
    if (inputs != null) {
      return new Stored(false, writer.write(id, inputs));
    }
    if (drawn != null) {
      return new Stored(true, asked);
    }
    if (spec.input().file() != null) {
      throw new SpecException("input.file", "a server does not read files named in a spec: send the records with the job"
          + " (JSON `records`, or a multipart `records` part of JSONL), or run it with `skein run`");
    }
    throw new SpecException("input", "no records: give input.records, input.num_records, or send records with the job");
  }

  /**
   * Every model the spec names is one this node serves: a misspelled name is refused, not answered
   * by a simulator; every MCP server it names is one this node may reach or start.
   */
  void checkModels(PipelineSpec spec) {
    if (models == null) {
      return;
    }
    List<SpecError> errors = new ArrayList<>(tools.problems(spec.tools()));
    spec.models().forEach((alias, model) -> {
      try {
        models.provider(model.model());
      } catch (IllegalArgumentException e) {
        List<String> users = spec.steps().stream().filter(st -> alias.equals(st.text("model"))).map(st -> st.name()).toList();
        errors.add(new SpecError("models." + alias + ".model", e.getMessage() + (users.isEmpty() ? "" : " (used by steps " + String.join(", ", users) + ")")));
      }
    });
    if (!errors.isEmpty()) {
      throw new SpecException(errors);
    }
  }

  /**
   * The records a submission brings (or its spec holds inline), drawn as its input says; null if it
   * has none. {@code stored}: the rows go to the inputs table, whose unique index finds a repeated id
   * of streamed rows; rows held whole (sampled, or not stored) are checked in memory instead.
   */
  private static Iterator<InputRow> inputs(Submission submission, PipelineSpec spec, Set<String> fields, boolean stored) {
    Iterator<InputRow> rows = submission.inputs();
    if (rows != null && spec.input().records() != null) {
      throw new SpecException("input.records", "records given twice: the spec holds records and the request sends records too;"
          + " send them in one place");
    }
    if (rows == null && spec.input().records() != null) {
      rows = InputLines.fromRecords(spec.input().records(), fields);
    }
    if (rows == null) {
      return null;
    }
    boolean streams = stored && InputSampling.streams(spec.input().sampling(), drawn(spec), spec.input().selection());
    return InputSampling.apply(streams ? RecordIds.scalar(rows) : RecordIds.checked(rows), spec.input().sampling(), drawn(spec),
        spec.input().limit(), spec.seed(), spec.input().selection());
  }

  /** How many records are drawn: {@code num_records}, or, with a target, its pool of {@code max_records}; null: as many as given. */
  private static Long drawn(PipelineSpec spec) {
    return spec.target() != null ? Long.valueOf(spec.target().maxRecords()) : spec.input().numRecords();
  }

  /**
   * Runs the first {@code n} records of a submission as a job would, keeping nothing but what the
   * response cache keeps, and answers their rows (output or error rows) in record order.
   */
  public CompletionStage<List<JsonNode>> preview(Submission submission, int n) {
    if (preview == null) {
      return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("this node runs no previews"));
    }
    PipelineSpec spec;
    List<RecordInput> inputs = new ArrayList<>();
    Set<String> fields = submission.fields() == null ? new LinkedHashSet<>() : submission.fields();
    try {
      spec = SpecParser.parse(submission.spec());
      checkModels(spec);
      Iterator<InputRow> rows = inputs(submission, spec, fields, false);
      if (rows != null) {
        while (rows.hasNext() && inputs.size() < n) {
          InputRow row = rows.next();
          inputs.add(row.error() != null ? RecordInput.invalid(row.index(), row.error())
              : RecordInput.of(row.index(), JSON.readTree(row.record())));
        }
      } else if (spec.input().numRecords() != null) {
        for (long i = 0; i < Math.min(n, spec.input().numRecords()); i++) {
          inputs.add(RecordInput.of(i, JSON.createObjectNode()));
        }
      } else {
        throw new SpecException("input", "no records: give input.records, input.num_records, or send records with the spec");
      }
    } catch (SpecException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    } catch (java.io.IOException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(new SpecException("records", e.getMessage()));
    }
    PipelinePlan plan;
    try {
      plan = PipelinePlan.compile(spec, fields);
    } catch (SpecException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    String key = "preview-" + newId().substring(4);
    List<java.util.concurrent.CompletableFuture<JsonNode>> rows = new ArrayList<>();
    for (RecordInput input : inputs) {
      rows.add(preview.run(plan, input, key + "/" + input.index(), submission.tenant()).toCompletableFuture());
    }
    return java.util.concurrent.CompletableFuture.allOf(rows.toArray(java.util.concurrent.CompletableFuture[]::new))
        .thenApply(done -> rows.stream().map(java.util.concurrent.CompletableFuture::join).toList());
  }

  /** Starts or resumes a job's coordinator (idempotent); a staged job's, of every stage. */
  public CompletionStage<Done> start(String jobId) {
    return ask(jobId, JobProtocol.Start::new, false);
  }

  public CompletionStage<Done> cancel(String jobId) {
    return ask(jobId, JobProtocol.Cancel::new, true);
  }

  /** Stops sending the job's records until it is resumed; records running finish. */
  public CompletionStage<Done> pause(String jobId) {
    return ask(jobId, JobProtocol.Pause::new, true);
  }

  /** Goes on with a paused job; records its model refused try that call again. */
  public CompletionStage<Done> resume(String jobId) {
    return resume(jobId, null);
  }

  /** Resumes a paused job, with a new {@code max_cost} (dollars) when one is given. */
  public CompletionStage<Done> resume(String jobId, Double maxCost) {
    Long nanos = maxCost == null ? null : Math.round(maxCost * 1e9);
    return ask(jobId, replyTo -> new JobProtocol.Resume(replyTo, nanos), true);
  }

  /**
   * Runs an ended job's failed records again, each from its last answered call; their error rows are
   * replaced as they end. Refused (a {@link StatusReply.ErrorMessage}, a 409) for a job that has not
   * ended, was cancelled or has no failed records, and for a staged job or one of its stages.
   */
  public CompletionStage<Done> retryFailed(JobInfo job) {
    String id = job.id();
    String refused = job.stage() != null ? "is a stage of staged job `" + job.stage().parentId() + "`: a stage's failed records are not retried"
        : !job.state().isTerminal() ? "is " + job.state().wireName() + ": its failed records are retried once it has ended"
        : job.state() == JobState.CANCELLED ? "was cancelled: submit it again to run its records"
        : null;
    if (refused != null) {
      return java.util.concurrent.CompletableFuture.failedFuture(new StatusReply.ErrorMessage("job `" + id + "` " + refused));
    }
    return store.stages().stages(id).thenCompose(stages -> !stages.isEmpty()
        ? java.util.concurrent.CompletableFuture.failedFuture(new StatusReply.ErrorMessage("job `" + id
            + "` is a staged job: its stages' failed records are not retried (submit it again: the cache answers what was answered)"))
        : job.counts().failed() == 0
        ? java.util.concurrent.CompletableFuture.failedFuture(new StatusReply.ErrorMessage("job `" + id + "` has no failed records to retry"))
        : store.lastFinished(id).thenCompose(last ->
            // Dated after every row of the job, whatever the clock of the node that wrote it.
            askOne(id, replyTo -> new JobProtocol.RetryFailed(replyTo, Math.max(System.currentTimeMillis(), last + 1)))));
  }

  /**
   * Asks the job's coordinator, or each of a staged job's stages' ({@code live}: only the stages
   * that have not ended, which alone can pause, resume or be cancelled).
   */
  private CompletionStage<Done> ask(String jobId, Function<ActorRef<StatusReply<Done>>, JobProtocol.Command> message, boolean live) {
    return store.stages().stages(jobId).thenCompose(stages -> {
      if (stages.isEmpty()) {
        return askOne(jobId, message);
      }
      java.util.concurrent.CompletableFuture<Done> all = java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
      for (JobInfo stage : stages) {
        if (!live || !stage.state().isTerminal()) {
          all = all.thenCombine(askOne(stage.id(), message), (a, b) -> Done.getInstance());
        }
      }
      return all.thenCompose(done -> store.stages().settleParentOf(stages.get(0).id())).thenApply(v -> Done.getInstance());
    });
  }

  private CompletionStage<Done> askOne(String jobId, Function<ActorRef<StatusReply<Done>>, JobProtocol.Command> message) {
    return ClusterSharding.get(system).entityRefFor(JobCoordinator.ENTITY_TYPE_KEY, jobId).askWithStatus(replyTo -> message.apply(replyTo), askTimeout);
  }

  /** Wakes the coordinators of jobs that were running when the cluster last stopped. */
  public CompletionStage<List<String>> resumeRunning() {
    return store.runningJobIds().thenApply(ids -> {
      ids.forEach(id -> start(id).whenComplete((ok, error) -> {
        if (error != null) {
          system.log().warn("could not resume job {}: {}", id, error.getMessage());
        }
      }));
      return ids;
    });
  }

  /**
   * Deletes an ended job and everything it keeps (journal, inputs, rows, job row); a running or
   * paused job is not deleted (cancel it first), nor one cancelled within {@code skein.record.call-grace}.
   */
  public CompletionStage<io.skein.coordinator.store.JobRetention.Outcome> delete(String jobId) {
    return retention.delete(jobId).whenComplete((outcome, error) -> {
      if (outcome == io.skein.coordinator.store.JobRetention.Outcome.DELETED) {
        system.log().info("job {} deleted", jobId);
      }
    });
  }

  public io.skein.coordinator.store.JobRetention retention() {
    return retention;
  }

  public CompletionStage<Optional<JobInfo>> job(String id) {
    return store.job(id);
  }

  /**
   * The job whose ledger holds the rows of job {@code id} (a staged job's rows are its last
   * stage's) or, with {@code stage}, of that stage; empty when there is no such job or stage.
   */
  public CompletionStage<Optional<JobInfo>> rowsOf(String id, String stage) {
    return store.stages().stages(id).thenCompose(stages -> {
      if (stage != null) {
        return java.util.concurrent.CompletableFuture.completedFuture(stages.stream().filter(s -> s.stage().name().equals(stage)).findFirst());
      }
      return stages.isEmpty() ? store.job(id) : java.util.concurrent.CompletableFuture.completedFuture(Optional.of(stages.get(stages.size() - 1)));
    });
  }

  /** A job's status as {@code GET /jobs/{id}} shows it: a staged job's with each stage's, in order. */
  public CompletionStage<Optional<com.fasterxml.jackson.databind.node.ObjectNode>> status(String id) {
    return store.job(id).thenCompose(job -> job.isEmpty()
        ? java.util.concurrent.CompletableFuture.completedFuture(Optional.empty())
        : store.stages().stages(id).thenCombine(store.stages().feeds(id),
            (stages, feeds) -> datasets(stages.isEmpty() ? job.get() : stages.get(stages.size() - 1),
                io.skein.coordinator.http.JobJson.status(job.get(), stages, feeds)))
            .thenCombine(job.get().dedupes() ? store.duplicates(id) : java.util.concurrent.CompletableFuture.completedFuture(-1L),
                (status, duplicates) -> {
                  if (duplicates >= 0) {
                    status.putObject("dedupe").put("duplicates", duplicates);
                  }
                  return Optional.of(status);
                }));
  }

  /** The datasets whose rows {@code GET /jobs/{id}/datasets/{name}} serves (a staged job's: its last stage's). */
  private static com.fasterxml.jackson.databind.node.ObjectNode datasets(JobInfo rows, com.fasterxml.jackson.databind.node.ObjectNode status) {
    try {
      var names = status.putArray("datasets");
      io.skein.coordinator.http.JobJson.datasets(rows).forEach(names::add);
    } catch (RuntimeException e) {
      // A spec this version cannot read lists no datasets; its status is still shown.
      status.remove("datasets");
    }
    return status;
  }

  public CompletionStage<List<JobInfo>> jobs() {
    return store.jobs(1000);
  }

  /** The newest 1,000 jobs of {@code tenant} (null: of every tenant). */
  public CompletionStage<List<JobInfo>> jobs(String tenant) {
    return store.jobs(1000, tenant);
  }

  /** Who owns job {@code id}; empty if there is no such job. */
  public CompletionStage<Optional<JobStore.Owner>> owner(String id) {
    return store.owner(id);
  }

  /**
   * A job's ledger rows as NDJSON lines in index order: output rows ({@code ok} true), error rows
   * (false) or both (null). Annotated rows merge in the input, every call and timings. Pages
   * through the table, so memory does not grow with the job.
   */
  /**
   * {@code GET /jobs/{id}/usage}: its calls per step and per model ({@link JobUsage}), tallied from
   * the annotated rows of the records that have ended (a staged job's: its last stage's), on a
   * blocking thread; empty for an unknown job.
   */
  public CompletionStage<Optional<com.fasterxml.jackson.databind.node.ObjectNode>> usage(String id) {
    return rowsOf(id, null).thenCompose(job -> {
      if (job.isEmpty()) {
        return java.util.concurrent.CompletableFuture.completedFuture(Optional.empty());
      }
      JobUsage tally = new JobUsage(models.prices(), modelsOfSteps(job.get()));
      return rows(job.get().id(), null, true)
          .map(line -> tally.add(USAGE_READER.readTree(line)))
          .withAttributes(org.apache.pekko.stream.ActorAttributes.dispatcher("pekko.actor.default-blocking-io-dispatcher"))
          .runWith(org.apache.pekko.stream.javadsl.Sink.ignore(), system)
          .thenApply(done -> Optional.of(tally.json().put("job", id)));
    });
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper USAGE_READER = new com.fasterxml.jackson.databind.ObjectMapper();

  /** The model each model step calls, from the job's spec (none for a spec this version cannot read). */
  private static java.util.Map<String, String> modelsOfSteps(JobInfo job) {
    java.util.Map<String, String> out = new java.util.HashMap<>();
    try {
      var spec = SpecParser.parse(SpecParser.readTree(job.spec()));
      for (var step : spec.steps()) {
        String alias = step.config().path("model").asText(null);
        if (alias != null && spec.models().containsKey(alias)) {
          out.put(step.name(), spec.models().get(alias).model());
        }
      }
    } catch (RuntimeException e) {
      // Attempts that failed before an answer named their model are counted under "unknown".
    }
    return out;
  }

  public Source<String, NotUsed> rows(String jobId, Boolean ok, boolean annotated) {
    return Source.unfoldAsync(new RowsReader(store, jobId, ok, annotated), reader -> reader.nextAsync()
            .thenApply(page -> page.isEmpty() ? Optional.<Pair<RowsReader, List<String>>>empty() : Optional.of(Pair.create(reader, page))))
        .mapConcat(lines -> lines);
  }

  /** A reader's rows as JSON, page by page: what a Parquet file is written from. */
  public static Iterator<JsonNode> json(RowsReader reader) {
    return new Iterator<>() {
      private java.util.ArrayDeque<String> page = new java.util.ArrayDeque<>();
      private boolean done;

      @Override
      public boolean hasNext() {
        while (page.isEmpty() && !done) {
          List<String> next = reader.next();
          done = next.isEmpty();
          page.addAll(next);
        }
        return !page.isEmpty();
      }

      @Override
      public JsonNode next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        try {
          return JSON.readTree(page.poll());
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
  }

  /** The extras of a job with a target (rows passed beyond it) as NDJSON lines in index order. */
  public Source<String, NotUsed> extrasRows(String jobId) {
    return Source.unfoldAsync(RowsReader.extras(store, jobId, false), reader -> reader.nextAsync()
            .thenApply(page -> page.isEmpty() ? Optional.<Pair<RowsReader, List<String>>>empty() : Optional.of(Pair.create(reader, page))))
        .mapConcat(lines -> lines);
  }

  /** One of a job's extra datasets as NDJSON lines in index order. */
  public Source<String, NotUsed> datasetRows(String jobId, String dataset) {
    return Source.unfoldAsync(RowsReader.dataset(store, jobId, dataset), reader -> reader.nextAsync()
            .thenApply(page -> reader.finished && page.isEmpty() ? Optional.<Pair<RowsReader, List<String>>>empty()
                : Optional.of(Pair.create(reader, page))))
        .mapConcat(lines -> lines);
  }

  /** Reads a job's rows page by page, in index order; an empty page means the end. */
  public static final class RowsReader {
    private static final int PAGE = 500;
    private final JobStore store;
    private final String jobId;
    private final Boolean ok;
    private final boolean annotated;
    private final String dataset;
    private final boolean extras;
    private long after = -1;
    private boolean finished;
    /** With a target: the index of the last output row (rows past it are extras); MAX_VALUE for none; null until read. */
    private Long lastOutput;

    public RowsReader(JobStore store, String jobId, Boolean ok, boolean annotated) {
      this(store, jobId, ok, annotated, null, false);
    }

    private RowsReader(JobStore store, String jobId, Boolean ok, boolean annotated, String dataset, boolean extras) {
      this.store = store;
      this.jobId = jobId;
      this.ok = ok;
      this.annotated = annotated;
      this.dataset = dataset;
      this.extras = extras;
    }

    /** The rows of one of the spec's extra datasets (of succeeded records), in index order. */
    public static RowsReader dataset(JobStore store, String jobId, String name) {
      return new RowsReader(store, jobId, true, false, name, false);
    }

    /** The {@code extras} of a job with a target: rows that passed beyond its target's, in index order. */
    public static RowsReader extras(JobStore store, String jobId, boolean annotated) {
      return new RowsReader(store, jobId, true, annotated, null, true);
    }

    /** Where output rows end: past the target-th row of a job with a target (which output and datasets stop at). */
    private CompletionStage<Long> lastOutput() {
      if (lastOutput != null || !Boolean.TRUE.equals(ok)) {
        return java.util.concurrent.CompletableFuture.completedFuture(lastOutput == null ? Long.MAX_VALUE : lastOutput);
      }
      return store.job(jobId).thenCompose(job -> {
        long target = job.map(JobInfo::target).orElse(0L);
        return target <= 0 ? java.util.concurrent.CompletableFuture.completedFuture(java.util.OptionalLong.empty())
            : store.nthOutputIndex(jobId, target);
      }).thenApply(n -> {
        lastOutput = n.isPresent() ? n.getAsLong() : Long.MAX_VALUE;
        if (extras) {
          after = lastOutput == Long.MAX_VALUE ? after : lastOutput;
          finished = lastOutput == Long.MAX_VALUE;
        }
        return lastOutput;
      });
    }

    /** What annotated rows carry of their job: its spec's fingerprint, the stage, when the job started and ended. */
    private String provenance;

    public CompletionStage<List<String>> nextAsync() {
      if (lastOutput == null && Boolean.TRUE.equals(ok)) {
        return lastOutput().thenCompose(last -> nextAsync());
      }
      if (finished) {
        return java.util.concurrent.CompletableFuture.completedFuture(List.of());
      }
      if (annotated && provenance == null) {
        return provenance(store, jobId).thenCompose(p -> {
          provenance = p;
          return nextAsync();
        });
      }
      var page = dataset == null ? store.results(jobId, ok, after, PAGE, annotated) : store.datasetRows(jobId, dataset, after, PAGE);
      long last = extras || lastOutput == null ? Long.MAX_VALUE : lastOutput;
      return page.thenApply(rows -> {
        finished = rows.size() < PAGE;
        List<String> lines = new ArrayList<>(rows.size());
        for (JobStore.LedgerRow r : rows) {
          if (r.index() > last) {
            finished = true;
            break;
          }
          after = r.index();
          if (r.row() != null) {
            lines.add(annotated ? merge(merge(r.row(), r.detail()), provenance) : r.row());
          }
        }
        return lines;
      });
    }

    public List<String> next() {
      return nextAsync().toCompletableFuture().join();
    }
  }

  /** {@code {"provenance": {...}}} of a job's rows: the job (a stage's is its staged job), the stage, its spec's fingerprint and times. */
  private static CompletionStage<String> provenance(JobStore store, String jobId) {
    return store.job(jobId).thenCompose(found -> {
      JobInfo own = found.orElseThrow(() -> new IllegalStateException("no job " + jobId));
      CompletionStage<Optional<JobInfo>> top = own.stage() == null
          ? java.util.concurrent.CompletableFuture.completedFuture(found) : store.job(own.stage().parentId());
      return top.thenApply(parent -> {
        JobInfo job = parent.orElse(own);
        var p = JSON.createObjectNode();
        var n = p.putObject("provenance");
        n.put("job", job.id());
        if (own.stage() != null) {
          n.put("stage", own.stage().name());
        }
        n.put("spec_fingerprint", Fingerprints.sha(job.spec()));
        n.put("job_started_at", java.time.Instant.ofEpochMilli(job.createdAt()).toString());
        if (job.finishedAt() != null) {
          n.put("job_finished_at", java.time.Instant.ofEpochMilli(job.finishedAt()).toString());
        }
        return p.toString();
      });
    });
  }

  private static String merge(String row, String detail) {
    if (detail == null || detail.length() <= 2) {
      return row;
    }
    return row.substring(0, row.length() - 1) + "," + detail.substring(1);
  }

  private static String newId() {
    byte[] bytes = new byte[8];
    RANDOM.nextBytes(bytes);
    return "job-" + HexFormat.of().formatHex(bytes);
  }
}
