package io.skein.coordinator.job;

import io.skein.coordinator.store.FeedSpec;
import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobInfo.Counts;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.StageStore.FeedState;
import io.skein.protocol.JobProtocol;
import io.skein.protocol.JobProtocol.Cancel;
import io.skein.protocol.JobProtocol.Command;
import io.skein.protocol.JobProtocol.Dispatched;
import io.skein.protocol.JobProtocol.Event;
import io.skein.protocol.JobProtocol.FailedRetried;
import io.skein.protocol.JobProtocol.JobEnded;
import io.skein.protocol.JobProtocol.JobPaused;
import io.skein.protocol.JobProtocol.JobResumed;
import io.skein.protocol.JobProtocol.JobStarted;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.protocol.JobProtocol.Pause;
import io.skein.protocol.JobProtocol.Progress;
import io.skein.protocol.JobProtocol.Resume;
import io.skein.protocol.JobProtocol.RetryFailed;
import io.skein.protocol.JobProtocol.Start;
import io.skein.protocol.RecordProtocol;
import io.skein.protocol.RecordProtocol.RecordBlocked;
import io.skein.protocol.RecordProtocol.RecordOutcome;
import io.skein.protocol.RecordProtocol.RecordProgress;
import io.skein.protocol.RecordProtocol.RecordReport;
import io.skein.worker.entity.RecordWorker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One job's life, as a sharded event-sourced entity keyed by job id. It keeps at most W records in
 * flight, sending each an idempotent {@code Ensure}, and counts their outcomes (duplicates are
 * ignored). It never journals per record: {@code Dispatched(upTo)} is persisted before records
 * below it are sent, {@code Progress(low)} once a second; on recovery it asks the results ledger
 * which records in {@code [low, upTo)} have ended and re-sends the rest. Records it has not heard
 * from for a while get another {@code Ensure}, so a record stopped by a handoff or a failed
 * persist never leaves the job hanging; when a cluster member is removed, every record in flight
 * gets one at once, so the records that lived there start again elsewhere without delay.
 *
 * <p>A paused job sends no new records; those running carry on. A job pauses by request, or when
 * {@code pauseAfterBlocked} records (or all that are left) report {@link RecordBlocked}: their model
 * refused them in a way no retry fixes, such as a wrong API key. Failing every record instead would
 * turn a typo in a key into a million error rows. On resume, blocked records try that call again.
 *
 * <p>A stage of a staged job is a job of its own. One whose records are made of its source stage's
 * rows starts with {@code JobStarted(OPEN)}: it knows only the records made so far and whether more
 * can come, and moves its feed ({@link StageFeeder}) each tick and whenever its window runs low;
 * once the feed has closed and every record made has ended, it ends like any job.
 *
 * <p>An ended job may retry its failed records ({@link FailedRetried}): it runs again, sending
 * {@code Ensure} only to the records whose error rows were written before the retry, a page of the
 * ledger at a time, and each goes on from its last answered call; the counts leave out those error
 * rows until the records end again. After a crash the pages are read again from the start: the
 * records already retried have newer rows, or answer the same Ensure with what they did.
 *
 * <p>Size: one entity's command handlers (start, dispatch window, outcomes, pause/resume/cancel,
 * retry, the job row kept in step with the journal); the decisions are in Dispatch, EarlyStops,
 * Targets and LiveProgress. The seams to split next are the job-row publishing (publishState,
 * RowWritten, RepublishEnd) and the retry pass (onRetryFailed to onPaged) into classes of their own.
 */
public final class JobCoordinator extends EventSourcedBehavior<Command, Event, CoordinatorState> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Job");

  /**
   * {@code ensureInterval}: how long a record may stay silent before it is sent Ensure again;
   * {@code maxStarting}: records sent to start and not yet heard from, at most — a window of tens of
   * thousands opens as fast as records start, not in one burst of recoveries and first writes that
   * the journal would time out on.
   */
  public record Deps(JobStore store, java.util.function.Consumer<String> onEnded, Duration tick, Duration ensureInterval,
      int pauseAfterBlocked, InFlightShares shares, StageFeeder feeder, int maxStarting) {

    public Deps {
      if (maxStarting < 1) {
        throw new IllegalArgumentException("skein.job.max-starting must be at least 1, not " + maxStarting);
      }
    }

    public Deps(JobStore store, java.util.function.Consumer<String> onEnded, Duration tick, Duration ensureInterval,
        int pauseAfterBlocked, InFlightShares shares, StageFeeder feeder) {
      this(store, onEnded, tick, ensureInterval, pauseAfterBlocked, shares, feeder, 1000);
    }
  }

  /** The most source rows one move of a stage's feed reads. */
  private static final int FEED_ROWS = 1000;

  private record JobLoaded(Optional<JobInfo> job, Throwable error) implements Command {}

  private record LedgerLoaded(Set<Long> finished, Counts counts, Throwable error) implements Command {}

  private record RecordDone(RecordReport report) implements Command {}

  /** The ledger's counts read to end the job (or republish its end) as of the retry {@code retriedAt}; a read from before a later retry is dropped. */
  private record FinalCounts(Counts counts, JobState state, String reason, long retriedAt, Throwable error) implements Command {}

  private enum Fill implements Command { INSTANCE }

  /** A stage's feed moved (or could not: error). */
  private record Fed(FeedState state, Throwable error) implements Command {}

  /** A cluster member was removed: records that lived there need an Ensure to start elsewhere. */
  private record MemberRemoved(String address) implements Command {}

  private enum Tick implements Command { INSTANCE }

  /** The job row was written (error null) or not: a row that disagrees with the journal is written again (the state says which write). */
  private record RowWritten(Throwable error) implements Command {}

  /** The end could not be written to the job row: write it again. */
  private record RepublishEnd(String reason) implements Command {}

  /** A retry's job row says running again, and its counts were read, the records retried not counted as failed (or not: error). */
  private record RetryLoaded(Counts counts, Throwable error, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** A retry's next page of failed records ({@code asked}: the most the page could hold), or an error reading it. */
  private record Paged(List<JobStore.FailedRow> rows, int asked, Throwable error) implements Command {}

  /** What a staged job's other stages have spent, as their rows say (or could not be read: error). */
  private record OthersCost(long nanos, Throwable error) implements Command {}

  /** The most failed records a retry reads from the ledger at once (at least a window's worth). */
  private static final int RETRY_PAGE = 1000;

  public static void init(ActorSystem<?> system, Deps deps) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), deps, ctx.getShard())));
  }

  public static Behavior<Command> create(String jobId, Deps deps) {
    return create(jobId, deps, null);
  }

  /** {@code shard} may be null outside sharding: the coordinator then stays up when its job ends. */
  public static Behavior<Command> create(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new JobCoordinator(ctx, timers, jobId, deps, shard)));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final String jobId;
  private final Deps deps;
  private final ClusterSharding sharding;
  /** Where to ask for passivation once the job has ended and its row says so (null outside sharding). */
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorRef<RecordReport> outcomes;

  // Runtime view, rebuilt from the journal and the ledger; never persisted.
  private boolean ready;
  private boolean loading;
  private boolean finishing;
  private final List<ActorRef<StatusReply<Done>>> waitingForStart = new ArrayList<>();
  /** What has been sent to which records, and heard of them. */
  private final Dispatch dispatch;
  /** A stage fed while it runs (its records are made of its source's rows, or wait for its setup). */
  private boolean streams;
  /** Records there are to run: the total, or for a stage fed while it runs, those made so far. */
  private long known;
  /** No more records will come: always, for a job whose records were stored at submission. */
  private boolean closed;
  private boolean feeding;
  /** The last move of the feed found no new rows: the next waits for the tick. */
  private boolean starved;
  /** With a target: the persisted dispatch mark at (re)start, below which every record must end before the job does. */
  private long mustFinish;
  /** The last write of the job row failed: the next tick writes it again. */
  private boolean rowStale;
  /** Why the job ended, as last written to its row (a failed write of the end is redone with it). */
  private String endReason;
  private Counts counts = Counts.ZERO;
  /** Calls and tokens of records not yet ended, and what they wait for: added to the counts the row shows. */
  private final LiveProgress live = new LiveProgress();
  /** When the job pauses by itself: max_cost, max_error_rate. */
  private final EarlyStops stops = new EarlyStops();
  private boolean dirty;
  /** A retry's next page is being read. */
  private boolean paging;
  /** For a stage of a staged job, that job (its max_cost caps the whole job's spend); null for a job of one stage. */
  private final String parent;
  /** What the job's other stages have spent, as their rows said at the last tick. */
  private long othersCostNanos;

  private JobCoordinator(ActorContext<Command> context, TimerScheduler<Command> timers, String jobId, Deps deps,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), jobId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.context = context;
    this.timers = timers;
    this.jobId = jobId;
    this.deps = deps;
    this.sharding = ClusterSharding.get(context.getSystem());
    this.shard = shard;
    this.dispatch = new Dispatch(deps.maxStarting());
    this.parent = StagedJobs.parentOf(jobId);
    this.outcomes = context.messageAdapter(RecordReport.class, RecordDone::new);
    ActorRef<ClusterEvent.MemberRemoved> removals = context.messageAdapter(ClusterEvent.MemberRemoved.class,
        e -> new MemberRemoved(e.member().address().toString()));
    Cluster.get(context.getSystem()).subscriptions().tell(Subscribe.create(removals, ClusterEvent.MemberRemoved.class));
  }

  @Override
  public CoordinatorState emptyState() {
    return CoordinatorState.EMPTY;
  }

  @Override
  public EventHandler<CoordinatorState, Event> eventHandler() {
    return (state, event) -> state.apply(event);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(500, 2);
  }

  @Override
  public SignalHandler<CoordinatorState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
      if (state.started() && !state.hasEnded()) {
        recover(state);
      }
    }).build();
  }

  @Override
  public CommandHandler<Command, Event, CoordinatorState> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Start.class, this::onStart)
        .onCommand(JobLoaded.class, this::onJobLoaded)
        .onCommand(LedgerLoaded.class, this::onLedgerLoaded)
        .onCommand(RecordDone.class, this::onRecordDone)
        .onCommand(Fill.class, (state, cmd) -> fill(state))
        .onCommand(Fed.class, this::onFed)
        .onCommand(Tick.class, this::onTick)
        .onCommand(Cancel.class, this::onCancel)
        .onCommand(Pause.class, this::onPause)
        .onCommand(Resume.class, this::onResume)
        .onCommand(FinalCounts.class, this::onFinalCounts)
        .onCommand(MemberRemoved.class, this::onMemberRemoved)
        .onCommand(RowWritten.class, this::onRowWritten)
        .onCommand(RepublishEnd.class, (state, cmd) -> {
          if (state.hasEnded()) {
            concludeWith(state, state.ended(), cmd.reason());
          }
          return Effect().none();
        })
        .onCommand(RetryFailed.class, this::onRetryFailed)
        .onCommand(RetryLoaded.class, this::onRetryLoaded)
        .onCommand(Paged.class, this::onPaged)
        .onCommand(OthersCost.class, this::onOthersCost)
        .build();
  }

  private Effect<Event, CoordinatorState> onStart(CoordinatorState state, Start cmd) {
    if (state.hasEnded()) {
      // The job row may have missed the end (crash between event and update): publish it again.
      finishing = true;
      concludeWith(state, state.ended(), null);
      cmd.replyTo().tell(StatusReply.ack());
      return Effect().none();
    }
    if (state.started()) {
      cmd.replyTo().tell(StatusReply.ack());
      return Effect().none();
    }
    waitingForStart.add(cmd.replyTo());
    if (!loading) {
      loading = true;
      context.pipeToSelf(withTenant(deps.store().job(jobId)), (job, error) -> new JobLoaded(job, error));
    }
    return Effect().none();
  }

  private Effect<Event, CoordinatorState> onJobLoaded(CoordinatorState state, JobLoaded cmd) {
    loading = false;
    if (cmd.error() != null || cmd.job().isEmpty()) {
      String why = cmd.error() != null ? "could not read job " + jobId + ": " + cmd.error().getMessage() : "no job " + jobId;
      waitingForStart.forEach(r -> r.tell(StatusReply.error(why)));
      waitingForStart.clear();
      return Effect().none();
    }
    JobInfo job = cmd.job().get();
    if (state.started()) {
      return Effect().none();
    }
    boolean fed = job.stage() != null && FeedSpec.parse(job.stage().feed()).streams();
    return Effect()
        .persist(new JobStarted(fed ? JobStarted.OPEN : job.total(), job.maxInFlight(), System.currentTimeMillis(), job.target(),
            job.limits()))
        .thenRun(started -> {
          waitingForStart.forEach(r -> r.tell(StatusReply.ack()));
          waitingForStart.clear();
          context.getLog().info("job {} started: {} records, at most {} in flight", jobId,
              started.total() == JobStarted.OPEN ? "its source's" : started.total(), started.window());
          begin(started, Set.of(), Counts.ZERO);
          context.getSelf().tell(Fill.INSTANCE);
        });
  }

  /** After recovery: learn from the ledger which records in [low, upTo) have ended, then carry on. */
  private void recover(CoordinatorState state) {
    if (loading) {
      return;
    }
    if (state.retrying()) {
      loadRetry(state, null);
      return;
    }
    loading = true;
    context.getLog().info("job {} resuming from record {} (dispatched up to {})", jobId, state.low(), state.upTo());
    context.pipeToSelf(
        withTenant(deps.store().finishedIndexes(jobId, state.low(), state.upTo())
            .thenCombine(deps.store().counts(jobId), (finished, counts) -> new LedgerLoaded(finished, counts, null))),
        (loaded, error) -> error == null ? loaded : new LedgerLoaded(Set.of(), Counts.ZERO, error));
  }

  private Effect<Event, CoordinatorState> onLedgerLoaded(CoordinatorState state, LedgerLoaded cmd) {
    loading = false;
    if (cmd.error() != null) {
      context.getLog().warn("job {} could not read the ledger, trying again: {}", jobId, cmd.error().toString());
      timers.startSingleTimer("resume", Tick.INSTANCE, Duration.ofSeconds(1));
      return Effect().none();
    }
    begin(state, cmd.finished(), cmd.counts());
    return fill(state);
  }

  private void begin(CoordinatorState state, Set<Long> finished, Counts initial) {
    dispatch.begin(state.low(), finished);
    carryOn(state, initial);
  }

  /**
   * {@code loading}, once the node's in-flight shares know whose job this is: a tenant's caps and
   * share hold from the first record, not from the next refresh of the running jobs.
   */
  private <T> java.util.concurrent.CompletionStage<T> withTenant(java.util.concurrent.CompletionStage<T> loading) {
    return loading.thenCombine(deps.store().owner(jobId).exceptionally(e -> java.util.Optional.empty()), (loaded, owner) -> {
      owner.ifPresent(o -> deps.shares().tenant(jobId, o.tenant()));
      return loaded;
    });
  }

  /** Once the dispatch knows where to start: the rest of the runtime view, the tick, and the job row. */
  private java.util.concurrent.CompletionStage<Void> carryOn(CoordinatorState state, Counts initial) {
    live.clear();
    stops.clear();
    counts = initial;
    streams = state.total() == JobStarted.OPEN;
    known = streams ? 0 : state.total();
    closed = !streams;
    feeding = false;
    paging = false;
    finishing = false;
    mustFinish = state.upTo();
    ready = true;
    dirty = true;
    timers.startTimerWithFixedDelay("tick", Tick.INSTANCE, deps.tick());
    deps.store().claimCoordinator(jobId, context.getSystem().address().hostPort());
    // The row may have missed a pause or resume (a failed write, a crash between event and row): say it again.
    return publishState(state, System.currentTimeMillis());
  }

  /** Sends Ensure to records up to the window and the persisted mark; persists a further mark when needed. */
  private Effect<Event, CoordinatorState> fill(CoordinatorState state) {
    if (!ready || state.hasEnded() || finishing) {
      return Effect().none();
    }
    if (state.retrying()) {
      return fillRetry(state);
    }
    long startable = startable(state);
    if (dispatch.low() >= startable && closed) {
      return conclude(state);
    }
    if (state.pausedNow()) {
      return Effect().none();
    }
    long now = System.currentTimeMillis();
    int window = deps.shares().windowFor(jobId, state.window());
    if (streams && !starved && known - dispatch.sentUpTo() < window) {
      feed();
    }
    dispatch.next(window, Math.min(state.upTo(), startable), now).forEach(index -> ensure(index, state));
    long span = Math.max(10L * state.window(), 10_000);
    boolean room = dispatch.inFlight() < window && dispatch.sentUpTo() < startable && state.upTo() - dispatch.low() < span;
    if (room && dispatch.sentUpTo() >= state.upTo()) {
      long next = Math.min(startable, state.upTo() + Math.max(state.window(), 64));
      return Effect().persist(new Dispatched(next)).thenRun(s -> context.getSelf().tell(Fill.INSTANCE));
    }
    if (dispatch.hasBlocked() && dispatch.inFlight() == 0) {
      // Nothing else can run: only blocked records are left, or they hold back the dispatch span.
      return pause(blockedReason());
    }
    return Effect().none();
  }

  /** The index below which records may be sent: every known record, or, with a target, as {@link Targets} decides. */
  private long startable(CoordinatorState state) {
    return state.target() <= 0 ? known
        : Targets.startable(state.target(), known, counts.succeeded(), counts.failed(), dispatch.sentUpTo(), mustFinish);
  }

  /** Moves a streaming stage's feed, one move at a time. */
  private void feed() {
    if (feeding || closed) {
      return;
    }
    feeding = true;
    context.pipeToSelf(deps.feeder().feed(jobId, FEED_ROWS), Fed::new);
  }

  private Effect<Event, CoordinatorState> onFed(CoordinatorState state, Fed cmd) {
    feeding = false;
    if (!ready || state.hasEnded() || finishing) {
      return Effect().none();
    }
    if (cmd.error() != null) {
      context.getLog().warn("job {} could not read its source's rows, trying again: {}", jobId, cmd.error().toString());
      return Effect().none();
    }
    FeedState fed = cmd.state();
    boolean more = fed.made() > known;
    known = fed.made();
    closed = fed.closed();
    if (fed.failed() != null) {
      context.getLog().warn("job {} has no records to run: {}", jobId, fed.failed());
      finishing = true;
      concludeWith(state, JobState.FAILED, fed.failed());
      return Effect().none();
    }
    starved = !more;
    dirty |= more;
    return fill(state);
  }

  private void ensure(long index, CoordinatorState state) {
    sharding.entityRefFor(RecordWorker.ENTITY_TYPE_KEY, RecordProtocol.recordKey(jobId, index))
        .tell(new RecordProtocol.Ensure(outcomes, state.resumedAt(), state.retriedAt()));
  }

  private Effect<Event, CoordinatorState> onRecordDone(CoordinatorState state, RecordDone cmd) {
    RecordReport report = cmd.report();
    if (!ready || state.hasEnded() || dispatch.hasEnded(report.index())) {
      return Effect().none();
    }
    boolean started = dispatch.heardFrom(report.index());
    if (report instanceof RecordBlocked b) {
      return onRecordBlocked(state, b);
    }
    if (report instanceof RecordProgress p) {
      if (dispatch.isInFlight(p.index())) {
        live.report(sinceRetry(p));
        dirty = true;
      }
      Effect<Event, CoordinatorState> stop = stopEarly(state);
      return stop != null ? stop : started ? fill(state) : Effect().none();
    }
    RecordOutcome o = (RecordOutcome) report;
    JobStore.FailedRow before = dispatch.prior(o.index());
    live.ended(o.index());
    dispatch.ended(o.index());
    counts = before == null ? counts.plus(o.succeeded(), o.calls(), o.tokens(), o.costNanos())
        : counts.plus(o.succeeded(), o.calls() - before.calls(), o.tokens() - before.tokens(), o.costNanos() - before.costNanos());
    stops.ended(o.succeeded() ? null : o.errorType() == null ? "failed" : o.errorType(), state.limits());
    dirty = true;
    Effect<Event, CoordinatorState> stop = stopEarly(state);
    return stop != null ? stop : fill(state);
  }

  /** A retried record's progress, less what its error row counts already. */
  private RecordProgress sinceRetry(RecordProgress p) {
    JobStore.FailedRow before = dispatch.prior(p.index());
    return before == null ? p : new RecordProgress(p.jobId(), p.index(), (int) (p.calls() - before.calls()), p.tokens() - before.tokens(),
        p.waitingFor(), p.costNanos() - before.costNanos());
  }

  /** A pause when the job's spend or its recent failures ask for one (see {@link EarlyStops}); null to go on. */
  private Effect<Event, CoordinatorState> stopEarly(CoordinatorState state) {
    // A pause only holds back records not yet sent: with every record sent, the job ends as it would.
    boolean allSent = state.retrying() ? dispatch.allSent() : closed && dispatch.sentUpTo() >= startable(state);
    if (state.pausedNow() || state.hasEnded() || finishing || allSent) {
      return null;
    }
    String reason = stops.reason(parent != null ? parent : jobId, state.limits(), live.counts(counts).costNanos(), othersCostNanos,
        state.total(), counts.done());
    if (reason == null) {
      return null;
    }
    stops.clear();
    return pause(reason);
  }

  /** A stage learns what the job's other stages have spent: with its own spend, that may reach the job's max_cost. */
  private Effect<Event, CoordinatorState> onOthersCost(CoordinatorState state, OthersCost cmd) {
    if (cmd.error() != null) {
      return Effect().none(); // the next tick reads it again
    }
    othersCostNanos = cmd.nanos();
    Effect<Event, CoordinatorState> stop = ready ? stopEarly(state) : null;
    return stop != null ? stop : Effect().none();
  }

  private Effect<Event, CoordinatorState> onMemberRemoved(CoordinatorState state, MemberRemoved cmd) {
    if (ready && !state.hasEnded() && dispatch.inFlight() > 0) {
      context.getLog().info("job {}: {} was removed; sending Ensure to its {} records in flight", jobId, cmd.address(), dispatch.inFlight());
      dispatch.everyInFlight(System.currentTimeMillis()).forEach(index -> ensure(index, state));
    }
    return Effect().none();
  }

  private Effect<Event, CoordinatorState> onTick(CoordinatorState state, Tick cmd) {
    if (state.hasEnded()) {
      return Effect().none();
    }
    if (!ready) {
      if (state.started()) {
        recover(state);
      }
      return Effect().none();
    }
    if (streams && !state.pausedNow()) {
      starved = false;
      feed();
    }
    long now = System.currentTimeMillis();
    dispatch.stale(now - deps.ensureInterval().toMillis(), now).forEach(index -> ensure(index, state));
    if (rowStale) {
      rowStale = false;
      publishState(state, now);
    }
    if (dirty) {
      dirty = false;
      deps.store().publishProgress(jobId, live.counts(counts), dispatch.inFlight(), live.waiting());
    }
    if (parent != null && state.limits().capsCost()) {
      context.pipeToSelf(deps.store().stages().costOfOthers(parent, jobId), (nanos, error) -> new OthersCost(nanos == null ? 0 : nanos, error));
    }
    if (!state.retrying() && dispatch.low() > state.low() && !finishing) {
      return Effect().persist(new Progress(dispatch.low()));
    }
    return Effect().none();
  }

  private Effect<Event, CoordinatorState> conclude(CoordinatorState state) {
    if (!finishing) {
      finishing = true;
      concludeWith(state, JobState.SUCCEEDED, null);
    }
    return Effect().none();
  }

  /** Reads the exact counts from the ledger, then ends the job with them. */
  private void concludeWith(CoordinatorState state, JobState end, String reason) {
    long retriedAt = state.retriedAt();
    context.pipeToSelf(deps.store().counts(jobId), (c, error) -> new FinalCounts(c, end, reason, retriedAt, error));
  }

  private Effect<Event, CoordinatorState> onFinalCounts(CoordinatorState state, FinalCounts cmd) {
    if (cmd.retriedAt() != state.retriedAt()) {
      return Effect().none(); // read to republish an end that a retry has since reopened
    }
    if (cmd.error() != null) {
      context.getLog().warn("job {} could not read its final counts, trying again: {}", jobId, cmd.error().toString());
      timers.startSingleTimer("conclude", Fill.INSTANCE, Duration.ofSeconds(1));
      finishing = false;
      return Effect().none();
    }
    long at = System.currentTimeMillis();
    if (state.hasEnded()) {
      endReason = cmd.reason();
      context.pipeToSelf(deps.store().finish(jobId, state.ended(), cmd.reason(), cmd.counts(), at), (ok, error) -> new RowWritten(error));
      return Effect().none();
    }
    JobState end = cmd.state();
    String reason = cmd.reason();
    if (end == JobState.SUCCEEDED && cmd.counts().succeeded() == 0 && cmd.counts().failed() > 0) {
      // Not a success a person should have to discover in the error rows.
      end = JobState.FAILED;
      reason = "every one of its " + cmd.counts().failed() + " records failed: its error rows say why";
    }
    String shortfall = state.target() <= 0 ? null : Targets.shortfall(state.target(), known, cmd.counts().succeeded());
    if (end == JobState.SUCCEEDED && shortfall != null) {
      end = JobState.FAILED;
      reason = shortfall;
    }
    String why = reason;
    // A retry's low mark is not the job's: the job's stays as its first run left it.
    List<Event> events = state.retrying() ? List.of(new JobEnded(end, why, at)) : List.of(new Progress(dispatch.low()), new JobEnded(end, why, at));
    return Effect()
        .persist(events)
        .thenRun(s -> {
          context.getLog().info("job {} {}: {} succeeded, {} failed, {} calls, {} tokens", jobId, s.ended().wireName(),
              cmd.counts().succeeded(), cmd.counts().failed(), cmd.counts().calls(), cmd.counts().tokens());
          published(s, java.util.concurrent.CompletableFuture.completedFuture(cmd.counts()), why, at);
        });
  }

  /** Publishes the end, with {@code finalCounts} once read, to the job row; completes when the row says so. */
  private java.util.concurrent.CompletionStage<Void> published(CoordinatorState state, java.util.concurrent.CompletionStage<Counts> finalCounts,
      String reason, long at) {
    timers.cancel("tick");
    JobState ended = state.ended();
    var written = finalCounts.thenCompose(c -> deps.store().finish(jobId, ended, reason, c, at))
        .whenComplete((ok, error) -> deps.onEnded().accept(jobId));
    endReason = reason;
    context.pipeToSelf(written, (ok, error) -> new RowWritten(error));
    return written;
  }

  /** Writes the job row as the journal has it (running, or paused with its reason); a failed write is tried again. */
  private java.util.concurrent.CompletionStage<Void> publishState(CoordinatorState state, long at) {
    var written = deps.store().setActive(jobId, state.pausedNow() ? JobState.PAUSED : JobState.RUNNING, state.pauseReason(),
        ready ? live.counts(counts) : null, dispatch.inFlight(), at);
    context.pipeToSelf(written, (ok, error) -> new RowWritten(error));
    return written;
  }

  private Effect<Event, CoordinatorState> onRowWritten(CoordinatorState state, RowWritten cmd) {
    if (cmd.error() == null) {
      if (state.hasEnded() && shard != null) {
        // Nothing more to do: an ended job keeps no actor (a later Start wakes it to publish again).
        shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
      }
      return Effect().none();
    }
    context.getLog().warn("job {}: could not write the job row, trying again: {}", jobId, cmd.error().getMessage());
    if (state.hasEnded()) {
      timers.startSingleTimer("republish", new RepublishEnd(endReason), Duration.ofSeconds(1));
    } else {
      rowStale = true;
    }
    return Effect().none();
  }

  private Effect<Event, CoordinatorState> onRetryFailed(CoordinatorState state, RetryFailed cmd) {
    String refused = !state.started() ? "has not started"
        : !state.hasEnded() ? "is " + (state.pausedNow() ? "paused" : "running") + ": its failed records are retried once it has ended"
        : state.ended() == JobState.CANCELLED ? "was cancelled: submit it again to run its records"
        : state.target() > 0 ? "has a target: it ran records until it had its rows, and retrying would make more"
        : state.total() == JobStarted.OPEN ? "is a stage fed by another: retry the staged job's records by submitting it again"
        : null;
    if (refused != null) {
      cmd.replyTo().tell(StatusReply.error("job " + jobId + " " + refused));
      return Effect().none();
    }
    long at = Math.max(cmd.atMillis(), state.retriedAt() + 1);
    return Effect().persist(new FailedRetried(at)).thenRun(s -> {
      context.getLog().info("job {} retries its failed records", jobId);
      timers.cancel("republish");
      loadRetry(s, cmd.replyTo());
    });
  }

  /** A retry (re)starts: the job row says running again, then the counts are read, the records being retried not counted as failed. */
  private void loadRetry(CoordinatorState state, ActorRef<StatusReply<Done>> replyTo) {
    loading = true;
    ready = false;
    long at = state.retriedAt();
    context.pipeToSelf(withTenant(deps.store().reopen(jobId, System.currentTimeMillis()).thenCompose(v -> deps.store().counts(jobId, at))),
        (loaded, error) -> new RetryLoaded(loaded, error, replyTo));
  }

  private Effect<Event, CoordinatorState> onRetryLoaded(CoordinatorState state, RetryLoaded cmd) {
    loading = false;
    if (cmd.error() != null) {
      context.getLog().warn("job {} could not start its retry, trying again: {}", jobId, cmd.error().toString());
      timers.startSingleTimer("resume", Tick.INSTANCE, Duration.ofSeconds(1));
      if (cmd.replyTo() != null) {
        cmd.replyTo().tell(StatusReply.ack()); // journaled: it goes on once the next tick starts it again
      }
      return Effect().none();
    }
    dispatch.beginOnly();
    var published = carryOn(state, cmd.counts());
    if (cmd.replyTo() != null) {
      published.whenComplete((ok, error) -> cmd.replyTo().tell(StatusReply.ack()));
    }
    return fill(state);
  }

  /** A retry's dispatch: pages of failed records in, Ensure out, and the end once every one has ended again. */
  private Effect<Event, CoordinatorState> fillRetry(CoordinatorState state) {
    if (dispatch.retryDone()) {
      return conclude(state);
    }
    if (state.pausedNow()) {
      return Effect().none();
    }
    int window = deps.shares().windowFor(jobId, state.window());
    if (dispatch.wantsPage(window) && !paging) {
      paging = true;
      int asked = Math.max(RETRY_PAGE, window);
      context.pipeToSelf(deps.store().failedBefore(jobId, state.retriedAt(), dispatch.paged(), asked),
          (rows, error) -> new Paged(rows, asked, error));
    }
    dispatch.next(window, Long.MAX_VALUE, System.currentTimeMillis()).forEach(index -> ensure(index, state));
    if (dispatch.hasBlocked() && dispatch.inFlight() == 0 && dispatch.allSent()) {
      return pause(blockedReason()); // only blocked records are left
    }
    return Effect().none();
  }

  private Effect<Event, CoordinatorState> onPaged(CoordinatorState state, Paged cmd) {
    paging = false;
    if (!ready || !state.retrying() || finishing) {
      return Effect().none();
    }
    if (cmd.error() != null) {
      context.getLog().warn("job {} could not read its failed records, trying again: {}", jobId, cmd.error().toString());
      timers.startSingleTimer("page", Fill.INSTANCE, Duration.ofSeconds(1));
      return Effect().none();
    }
    dispatch.addPage(cmd.rows(), cmd.rows().size() < cmd.asked());
    dirty = true;
    return fill(state);
  }

  private Effect<Event, CoordinatorState> onRecordBlocked(CoordinatorState state, RecordBlocked b) {
    if (b.atMillis() < state.resumedAt()) {
      return Effect().none(); // a report from before the last resume; the record has been asked again since
    }
    if (dispatch.blocked(b)) {
      context.getLog().warn("job {}: record {} is blocked: model `{}` refused step `{}` ({}: {})", jobId, b.index(), b.model(),
          b.step(), b.errorType(), b.message());
    }
    dirty = true;
    if (state.pausedNow()) {
      return Effect().none();
    }
    return dispatch.blockedCount() >= deps.pauseAfterBlocked() ? pause(blockedReason()) : fill(state);
  }

  private String blockedReason() {
    RecordBlocked last = dispatch.lastBlocked();
    int blocked = dispatch.blockedCount();
    return String.format("model `%s` refused %d record%s (%s at step `%s`: %s). No record has failed and nothing is lost:"
            + " fix the cause (the API key, access to the model, its name in the server's config, or the provider being down), then resume the job",
        last.model(), blocked, blocked == 1 ? "" : "s", last.errorType(), last.step(), last.message());
  }

  private Effect<Event, CoordinatorState> pause(String reason) {
    long at = System.currentTimeMillis();
    return Effect().persist(new JobPaused(reason, at)).thenRun(s -> {
      context.getLog().warn("job {} paused: {}", jobId, reason);
      publishState(s, at);
    });
  }

  private Effect<Event, CoordinatorState> onPause(CoordinatorState state, Pause cmd) {
    if (state.hasEnded()) {
      cmd.replyTo().tell(StatusReply.error("job " + jobId + " has already " + state.ended().wireName()));
      return Effect().none();
    }
    if (state.pausedNow() || !state.started()) {
      cmd.replyTo().tell(state.started() ? StatusReply.ack() : StatusReply.error("job " + jobId + " has not started"));
      return Effect().none();
    }
    String reason = "paused by request";
    long at = System.currentTimeMillis();
    return Effect().persist(new JobPaused(reason, at)).thenRun(s -> {
      context.getLog().info("job {} paused by request", jobId);
      publishState(s, at).whenComplete((ok, error) -> cmd.replyTo().tell(StatusReply.ack()));
    });
  }

  private Effect<Event, CoordinatorState> onResume(CoordinatorState state, Resume cmd) {
    if (state.hasEnded()) {
      cmd.replyTo().tell(StatusReply.error("job " + jobId + " has already " + state.ended().wireName()));
      return Effect().none();
    }
    if (!state.pausedNow() && parent != null && state.started() && cmd.maxCostNanos() != null) {
      // A staged job paused at its max_cost: every stage takes the new cap, running or not (its resume time unchanged).
      long spent = (ready ? live.counts(counts).costNanos() : 0) + othersCostNanos;
      if (spent >= cmd.maxCostNanos()) {
        cmd.replyTo().tell(StatusReply.error("job " + parent + " has spent " + EarlyStops.dollars(spent) + ": a max_cost of "
            + EarlyStops.dollars(cmd.maxCostNanos()) + " would pause it again"));
        return Effect().none();
      }
      return Effect().persist(new JobResumed(state.resumedAt(), cmd.maxCostNanos())).thenRun(s -> cmd.replyTo().tell(StatusReply.ack()));
    }
    if (!state.pausedNow()) {
      cmd.replyTo().tell(!state.started() ? StatusReply.error("job " + jobId + " has not started")
          : cmd.maxCostNanos() != null ? StatusReply.error("job " + jobId + " is running: max_cost is raised when resuming a paused job")
          : StatusReply.ack());
      return Effect().none();
    }
    long spent = (ready ? live.counts(counts).costNanos() : 0) + othersCostNanos;
    long cap = cmd.maxCostNanos() != null ? cmd.maxCostNanos() : state.limits().maxCostNanos();
    if ((cmd.maxCostNanos() != null || state.limits().capsCost()) && spent >= cap) {
      String job = parent != null ? parent : jobId;
      cmd.replyTo().tell(StatusReply.error("job " + job + " has spent " + EarlyStops.dollars(spent) + " of its max_cost "
          + EarlyStops.dollars(cap) + ": resume it with a higher max_cost (POST /jobs/" + job + "/resume?max_cost=...)"));
      return Effect().none();
    }
    long at = System.currentTimeMillis();
    stops.clear();
    return Effect().persist(new JobResumed(at, cmd.maxCostNanos())).thenRun(s -> {
      context.getLog().info("job {} resumed; {} blocked records try again", jobId, dispatch.blockedCount());
      List<Long> again = dispatch.unblock(at);
      if (ready) {
        again.forEach(index -> ensure(index, s));
      }
      dirty = true;
      context.getSelf().tell(Fill.INSTANCE);
      publishState(s, at).whenComplete((ok, error) -> cmd.replyTo().tell(StatusReply.ack()));
    });
  }

  private Effect<Event, CoordinatorState> onCancel(CoordinatorState state, Cancel cmd) {
    if (state.hasEnded()) {
      cmd.replyTo().tell(state.ended() == JobState.CANCELLED ? StatusReply.ack()
          : StatusReply.error("job " + jobId + " has already " + state.ended().wireName()));
      return Effect().none();
    }
    long at = System.currentTimeMillis();
    return Effect()
        .persist(new JobEnded(JobState.CANCELLED, "cancelled by request", at))
        .thenRun(s -> {
          // Records in flight (and blocked ones, which would try again on a resume) end now: no call after a cancel.
          dispatch.cancel().forEach(index -> sharding.entityRefFor(RecordWorker.ENTITY_TYPE_KEY, RecordProtocol.recordKey(jobId, index))
              .tell(new RecordProtocol.Cancel("the job was cancelled")));
          // The ledger's counts: records cancelled write no row, and a retry's records keep their error rows.
          context.getLog().info("job {} cancelled by request", jobId);
          published(s, deps.store().counts(jobId), "cancelled by request", at).whenComplete((ok, error) -> cmd.replyTo().tell(StatusReply.ack()));
        });
  }
}
