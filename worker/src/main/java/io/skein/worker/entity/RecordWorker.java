package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.CallId;
import io.skein.protocol.RecordProtocol;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.Command;
import io.skein.protocol.RecordProtocol.Ensure;
import io.skein.protocol.RecordProtocol.Event;
import io.skein.protocol.RecordProtocol.RecordFailed;
import io.skein.protocol.RecordProtocol.RecordBlocked;
import io.skein.protocol.RecordProtocol.RecordOutcome;
import io.skein.protocol.RecordProtocol.RecordProgress;
import io.skein.protocol.RecordProtocol.RecordReport;
import io.skein.protocol.RecordProtocol.RecordRetried;
import io.skein.protocol.RecordProtocol.RecordStarted;
import io.skein.protocol.RecordProtocol.RecordSucceeded;
import io.skein.protocol.RecordProtocol.ToolCalled;
import io.skein.protocol.RecordProtocol.ValuesComputed;
import io.skein.protocol.spec.DedupeSpec;
import io.skein.worker.dedupe.Deduper;
import io.skein.worker.gateway.ModelAccess;
import io.skein.worker.gateway.ModelGateway;
import io.skein.worker.gateway.ModelOutcome;
import io.skein.worker.gateway.ModelRequest;
import io.skein.worker.gateway.Prices;
import io.skein.worker.gateway.Provider;
import io.skein.worker.step.Outcome;
import io.skein.worker.tools.ToolAccess;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One record's life, as a sharded event-sourced entity with id {@code <jobId>/<index>}. It loads
 * its job's plan and its input, asks the {@link StepPlanner} what to do, sends calls through the
 * model gateways, and persists every answer ({@code CallSucceeded}) and every failed attempt
 * ({@code CallFailed}) before acting on it. Replay rebuilds the state, so after a crash it carries
 * on from its last finished call and never sends an answered call again. At the end it persists
 * {@code RecordSucceeded} or {@code RecordFailed}, writes its row to the ledger, reports to the
 * latest {@link Ensure}'s sender, and passivates. A call refused in a way that blocks the whole job
 * (wrong key, no access, no such model) does not fail the record: it reports {@link RecordBlocked}
 * and passivates, to try that call again when an Ensure says the job was resumed since.
 *
 * <p>Size: the per-state handlers of one entity, plus its call deadlines, cancel, progress reports
 * and planning off its thread for templates with blocks; the decisions are elsewhere (StepPlanner,
 * RetryPolicy, Rows, Planned). The next seam is the in-flight bookkeeping (inFlight, notBefore,
 * deadlines) as a small class.
 */
public final class RecordWorker extends EventSourcedBehavior<Command, Event, RecordState> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Record");

  /** What a record needs from its node: the job store, the ledger, the models, and where call timings and counts go. */
  public record Deps(RecordSource source, ResultSink sink, ModelAccess models, Duration stopTimeout, CallTimer timer,
      Duration callDeadline, Duration callGrace, RecordMeters meters, Deduper deduper, ToolAccess tools, Prices prices) {
    public Deps {
      prices = prices == null ? Prices.NONE : prices;
    }

    public Deps(RecordSource source, ResultSink sink, ModelAccess models, Duration stopTimeout, CallTimer timer,
        Duration callDeadline, Duration callGrace, RecordMeters meters, Deduper deduper, ToolAccess tools) {
      this(source, sink, models, stopTimeout, timer, callDeadline, callGrace, meters, deduper, tools, Prices.NONE);
    }

    public Deps(RecordSource source, ResultSink sink, ModelAccess models, Duration stopTimeout, CallTimer timer,
        Duration callDeadline, Duration callGrace, RecordMeters meters, Deduper deduper) {
      this(source, sink, models, stopTimeout, timer, callDeadline, callGrace, meters, deduper, ToolAccess.NONE);
    }

    public Deps(RecordSource source, ResultSink sink, ModelAccess models, Duration stopTimeout, CallTimer timer,
        Duration callDeadline, Duration callGrace) {
      this(source, sink, models, stopTimeout, timer, callDeadline, callGrace, RecordMeters.NONE, Deduper.NONE);
    }

    public Deps(RecordSource source, ResultSink sink, ModelAccess models, Duration stopTimeout, CallTimer timer) {
      this(source, sink, models, stopTimeout, timer, Duration.ofMinutes(15), Duration.ofSeconds(30));
    }

    public Deps(RecordSource source, ResultSink sink, ModelAccess models, Duration stopTimeout) {
      this(source, sink, models, stopTimeout, CallTimer.NONE);
    }
  }

  private static final Duration UNCLAIMED_LINGER = Duration.ofSeconds(5);

  /** Loads and row writes tried in a row before the record stops and waits for its job's next Ensure. */
  static final int MAX_RELOADS = 10;

  /** Error type of a record whose step's kind failed on an answer (a bug in the kind, said in the message). */
  public static final String STEP_ERROR = "step_error";

  /** Error type of a record whose {@code dedupe} field is too close to one accepted before it. */
  public static final String DUPLICATE = "duplicate";

  private record Deduped(Deduper.Verdict verdict, Throwable error, Rows.Rendered rendered) implements Command {}

  /** A dedupe check is out: the record ends when it answers. */
  private boolean deduping;

  private record Pending(StepPlanner.PlannedCall call, long plannedNanos) {}

  private record ContextLoaded(RecordContext context) implements Command {}

  private record ContextFailed(Throwable error) implements Command {}

  private record GatewayReply(ModelGateway.Reply reply) implements Command {}

  private record RowSaved(boolean ok, Throwable error) implements Command {}

  /** A call that cannot be sent: no provider serves its model, or its tools cannot be listed. */
  private record NoProvider(String step, String errorType, String message) implements Command {}

  /** Error type of a record whose step's tools could not be listed (a server that does not start or answer). */
  public static final String TOOL_ERROR = "tool_error";

  /** A tool call has run. */
  private record ToolDone(Outcome.ToolUse use, ToolAccess.ToolResult result) implements Command {}

  /** Tool calls running now, by the model call that asked and their index in its answer. */
  private final Set<String> toolsRunning = new HashSet<>();

  /** A call still unanswered at its deadline: first withdraw it at the gateway, then ({@code withdrawn}) forget it. */
  private record Overdue(CallId call, boolean withdrawn) implements Command {}

  private enum Drive implements Command { INSTANCE }

  private enum Reload implements Command { INSTANCE }

  private enum StopNow implements Command { INSTANCE }

  private enum Unclaimed implements Command { INSTANCE }

  public static void init(ActorSystem<?> system, Deps deps) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard(), deps))
            .withStopMessage(RecordProtocol.Stop.INSTANCE));
  }

  /** {@code shard} may be null outside sharding (tests): the record then stays up when it ends. */
  public static Behavior<Command> create(
      String entityId, ActorRef<ClusterSharding.ShardCommand> shard, Deps deps) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RecordWorker(ctx, timers, entityId, shard, deps)));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Deps deps;
  private final String recordKey;
  private final String jobId;
  private final long index;
  private final ActorRef<ModelGateway.Reply> replies;
  private final String node;

  private RecordContext loaded;
  /** What the record last told its coordinator it waits for (null: nothing). */
  private String toldWaiting;
  private ActorRef<RecordReport> replyTo;
  private boolean startRequested;
  /** This incarnation has told its coordinator that it runs. */
  private boolean announced;
  /** When the job was last resumed, as the latest Ensure said; refusals before it are tried again. */
  private long resumedAt;
  private boolean blockedReported;
  /** Calls sent and not yet answered, with when each was planned. */
  private final Map<CallId, Pending> inFlight = new HashMap<>();
  private final Map<CallId, Long> notBefore = new HashMap<>();
  private boolean stopping;
  private boolean saving;
  /** Whether the row written is an output row: what the record reports (its journal may say succeeded and its row not). */
  private boolean rowSucceeded;
  /** Its job does not know it: it writes an error row and answers every Ensure with a failure. */
  private boolean unknown;
  /** Failed loads or row writes in a row, for the backoff. */
  private int reloads;
  /** A retry asked for while the row of the end it undoes was being written: made once the write lands. */
  private Ensure pendingRetry;
  /** A plan is being made on the template threads; a drive meanwhile asks for another once it lands. */
  private boolean planning;
  private boolean planAgain;

  private RecordWorker(
      ActorContext<Command> context, TimerScheduler<Command> timers, String entityId,
      ActorRef<ClusterSharding.ShardCommand> shard, Deps deps) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), entityId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.deps = deps;
    this.recordKey = entityId;
    int slash = entityId.lastIndexOf('/');
    this.jobId = entityId.substring(0, slash);
    this.index = Long.parseLong(entityId.substring(slash + 1));
    this.replies = context.messageAdapter(ModelGateway.Reply.class, GatewayReply::new);
    this.node = context.getSystem().address().hostPort();
  }

  @Override
  public RecordState emptyState() {
    return new RecordState();
  }

  @Override
  public EventHandler<RecordState, Event> eventHandler() {
    return (state, event) -> state.apply(event);
  }

  @Override
  public SignalHandler<RecordState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          deps.meters().running(recordKey);
          load();
        })
        .onSignal(PostStop.instance(), state -> deps.meters().stopped(recordKey))
        .onSignal(PreRestart.instance(), state -> deps.meters().stopped(recordKey))
        .build();
  }

  /**
   * By state: an ended record only writes its row, reports and stops; one not started yet starts
   * when asked; a running one plans, calls and persists. The rest (loading, saving, stopping) is the
   * same in every state.
   */
  @Override
  public CommandHandler<Command, Event, RecordState> commandHandler() {
    var builder = newCommandHandlerBuilder();
    builder.forState(RecordState::isTerminal)
        .onCommand(Ensure.class, this::onEnsureEnded)
        .onCommand(ContextLoaded.class, (state, cmd) -> {
          loaded = cmd.context();
          saveRow(state);
          return Effect().none();
        })
        .onCommand(GatewayReply.class, this::onLateReply)
        .onCommand(Drive.class, (state, cmd) -> Effect().none())
        .onCommand(Planned.class, (state, cmd) -> {
          planning = false;
          return Effect().none();
        })
        .onCommand(NoProvider.class, (state, cmd) -> Effect().none())
        .onCommand(ToolDone.class, (state, cmd) -> Effect().none())
        .onCommand(Overdue.class, (state, cmd) -> Effect().none())
        .onCommand(RecordProtocol.Cancel.class, (state, cmd) -> Effect().none());
    builder.forState(state -> !state.isStarted())
        .onCommand(GatewayReply.class, this::onLateReply)
        .onCommand(Drive.class, (state, cmd) -> Effect().none())
        .onCommand(ToolDone.class, (state, cmd) -> Effect().none());
    builder.forAnyState()
        .onCommand(Ensure.class, this::onEnsure)
        .onCommand(ContextLoaded.class, this::onContextLoaded)
        .onCommand(GatewayReply.class, this::onGatewayReply)
        .onCommand(Drive.class, this::drive)
        .onCommand(Planned.class, this::onPlanned)
        .onCommand(NoProvider.class, this::onNoProvider)
        .onCommand(ToolDone.class, this::onToolDone)
        .onCommand(ContextFailed.class, this::onContextFailed)
        .onCommand(Reload.class, (state, cmd) -> { load(); return Effect().none(); })
        .onCommand(RowSaved.class, this::onRowSaved)
        .onCommand(Deduped.class, this::onDeduped)
        .onCommand(Overdue.class, this::onOverdue)
        .onCommand(RecordProtocol.Cancel.class, this::onCancel)
        .onCommand(RecordProtocol.Stop.class, this::onStop)
        .onCommand(StopNow.class, (state, cmd) -> Effect().stop())
        .onCommand(Unclaimed.class, (state, cmd) -> passivate());
    return builder.build();
  }

  private void load() {
    context.pipeToSelf(deps.source().load(jobId, index),
        (ctx, error) -> error == null ? new ContextLoaded(ctx) : new ContextFailed(error));
  }

  /** An ended record whose row is written and that nobody had claimed reports at once; else it writes its row first. */
  private Effect<Event, RecordState> onEnsureEnded(RecordState state, Ensure cmd) {
    if (retries(state, cmd)) {
      if (saving) {
        claim(cmd);
        pendingRetry = cmd;
        return Effect().none();
      }
      return retry(cmd);
    }
    boolean unclaimed = replyTo == null && !saving && loaded != null;
    claim(cmd);
    if (unclaimed) {
      timers.cancel("unclaimed");
      replyTo.tell(outcome(state));
      return passivate();
    }
    saveRow(state);
    return Effect().none();
  }

  /** A failed record (not cancelled) that its job has retried since it was last retried runs again. */
  private boolean retries(RecordState state, Ensure cmd) {
    return !unknown && state.failure() != null && !RecordProtocol.CANCELLED.equals(state.failure().errorType())
        && cmd.retryFailedAt() > state.retriedAt();
  }

  /** Undoes the failure in the journal, then goes on from the last answered call as a running record does. */
  private Effect<Event, RecordState> retry(Ensure cmd) {
    claim(cmd);
    timers.cancel("unclaimed");
    startRequested = true;
    announced = false;
    return Effect().persist(new RecordRetried(cmd.retryFailedAt())).thenRun(s -> {
      context.getLog().info("record {} retried: it goes on from its last answered call", recordKey);
      announce(s);
      driveLater(s);
    });
  }

  private Effect<Event, RecordState> onEnsure(RecordState state, Ensure cmd) {
    claim(cmd);
    if (unknown) {
      if (!saving) {
        timers.cancel("unclaimed");
        replyTo.tell(new RecordOutcome(jobId, index, false, 0, 0, 0, "unknown_record"));
        return passivate();
      }
      return Effect().none();
    }
    startRequested = true;
    return loaded == null ? Effect().none() : proceed(state);
  }

  /** Reports now go to this Ensure's sender; refusals before its resume time are tried again. */
  private void claim(Ensure cmd) {
    replyTo = cmd.replyTo();
    resumedAt = Math.max(resumedAt, cmd.resumedAt());
    blockedReported = false;
  }

  private Effect<Event, RecordState> onContextLoaded(RecordState state, ContextLoaded cmd) {
    loaded = cmd.context();
    return proceed(state);
  }

  /**
   * Starts or continues a record that has not ended, depending on where the journal left it, and
   * tells the coordinator once it has (it starts a window's records as fast as they start).
   */
  private Effect<Event, RecordState> proceed(RecordState state) {
    if (!state.isStarted()) {
      if (!startRequested || stopping) {
        return Effect().none();
      }
      long now = System.currentTimeMillis();
      RecordStarted started = new RecordStarted(now);
      Planned ahead = planAhead(state, started, now);
      return Effect().persist(started).thenRun(s -> {
        announce(s);
        continueWith(s, ahead);
      });
    }
    announce(state);
    return drive(state, Drive.INSTANCE);
  }

  /** The first report of this incarnation: the coordinator counts the record as started. */
  private void announce(RecordState state) {
    if (!announced && replyTo != null) {
      announced = true;
      reportProgress(state, null);
    }
  }

  private Effect<Event, RecordState> onContextFailed(RecordState state, ContextFailed cmd) {
    Throwable cause = cmd.error() instanceof java.util.concurrent.CompletionException && cmd.error().getCause() != null
        ? cmd.error().getCause() : cmd.error();
    if (cause instanceof RecordSource.UnknownJobException) {
      // Nothing to run, but the coordinator that asks is owed an answer: an error row, then the outcome.
      context.getLog().warn("record {} cannot run: {}", recordKey, cause.getMessage());
      unknown = true;
      save(Rows.unknown(jobId, index, cause.getMessage()));
      return Effect().none();
    }
    context.getLog().warn("record {} could not load its job, trying again: {}", recordKey, cause.toString());
    return retryLater();
  }

  /** Loads the job again after a backoff that doubles up to 30 s; past {@link #MAX_RELOADS}, stops until the next Ensure. */
  private Effect<Event, RecordState> retryLater() {
    if (++reloads > MAX_RELOADS) {
      context.getLog().error("record {} gave up after {} tries; it starts again when its job asks for it", recordKey, MAX_RELOADS);
      reloads = 0;
      return Effect().stop();
    }
    long delay = Math.min(30_000L, 500L << Math.min(reloads, 6));
    timers.startSingleTimer("reload", Reload.INSTANCE, Duration.ofMillis(delay));
    return Effect().none();
  }

  private Effect<Event, RecordState> drive(RecordState state, Drive cmd) {
    if (loaded == null) {
      return Effect().none();
    }
    if (stopping) {
      return inFlight.isEmpty() ? Effect().stop() : Effect().none();
    }
    long now = System.currentTimeMillis();
    if (loaded.plan().hasBlockTemplates()) {
      return planAside(state, now);
    }
    return apply(state, Planned.of(loaded, state, inFlight.keySet(), notBefore, now, resumedAt));
  }

  /**
   * Plans on the template threads: a plan whose templates have blocks (loops, macros) may take a
   * render's whole budget, which must not hold this actor's dispatcher thread. The plan is used only
   * if nothing it was made from has moved meanwhile; else the record plans again.
   */
  private Effect<Event, RecordState> planAside(RecordState state, long now) {
    if (planning) {
      planAgain = true;
      return Effect().none();
    }
    planning = true;
    RecordContext ctx = loaded;
    Set<CallId> flying = Set.copyOf(inFlight.keySet());
    Map<CallId, Long> waits = Map.copyOf(notBefore);
    long resumed = resumedAt;
    context.pipeToSelf(CompletableFuture.supplyAsync(() -> Planned.of(ctx, state, flying, waits, now, resumed), Planned.THREADS),
        (planned, error) -> planned != null ? planned : Planned.failed(error));
    return Effect().none();
  }

  private Effect<Event, RecordState> onPlanned(RecordState state, Planned planned) {
    planning = false;
    if (planned.error() != null) {
      throw new IllegalStateException("planning record " + recordKey + " failed", planned.error());
    }
    boolean stale = planAgain || state != planned.basis() || loaded != planned.context() || resumedAt != planned.resumedAt()
        || !inFlight.keySet().equals(planned.inFlight()) || !notBefore.equals(planned.notBefore());
    planAgain = false;
    if (stopping) {
      return inFlight.isEmpty() ? Effect().stop() : Effect().none();
    }
    return stale ? drive(state, Drive.INSTANCE) : apply(state, planned);
  }

  private Effect<Event, RecordState> apply(RecordState state, Planned planned) {
    StepPlanner.Decision decision = planned.decision();
    long now = planned.now();
    if (decision instanceof StepPlanner.Finish) {
      // Rendered before the record is marked succeeded, so a failing output or dataset template fails the record instead.
      if (planned.renderError() != null) {
        return fail(new RecordFailed(StepPlanner.TEMPLATE_ERROR, planned.renderError(), null, now));
      }
      return succeedsNow(planned) ? succeed(planned.rendered()) : dedupe(state, loaded.plan().spec().dedupe(), planned.rendered());
    }
    if (decision instanceof StepPlanner.Fail f) {
      return fail(new RecordFailed(f.errorType(), f.message(), f.step(), now));
    }
    if (decision instanceof StepPlanner.Blocked b) {
      // Not a failure: tell the coordinator (which pauses the job) and stop until an Ensure resumes us.
      if (replyTo != null && !blockedReported) {
        blockedReported = true;
        replyTo.tell(new RecordBlocked(jobId, index, b.model(), b.step(), b.errorType(), b.message(), b.atMillis()));
      }
      return passivate();
    }
    StepPlanner.Proceed proceed = (StepPlanner.Proceed) decision;
    if (proceed.computesValues()) {
      // Values computed without a model are persisted before any call that may have read them is sent.
      return Effect().persist(new ValuesComputed(proceed.computed(), proceed.skipped(), now))
          .thenRun(s -> send(proceed, now));
    }
    send(proceed, now);
    return Effect().none();
  }

  private Effect<Event, RecordState> succeed(Rows.Rendered rendered) {
    return succeed(List.of(), rendered, () -> { });
  }

  /** Journals {@code first} and the record's end in one write, then writes its row. */
  private Effect<Event, RecordState> succeed(List<Event> first, Rows.Rendered rendered, Runnable journaled) {
    List<Event> events = new java.util.ArrayList<>(first);
    events.add(new RecordSucceeded(System.currentTimeMillis()));
    return Effect().persist(events).thenRun(s -> {
      journaled.run();
      save(ledgerRow(Rows.success(jobId, loaded, s, rendered), s));
    });
  }

  /** The plan ends the record as a success now: its rows rendered, and no dedupe check to wait for. */
  private boolean succeedsNow(Planned planned) {
    return planned.decision() instanceof StepPlanner.Finish && planned.renderError() == null && loaded.plan().spec().dedupe() == null;
  }

  /** With {@code dedupe}: the record ends once the job-wide check has said whether its text is new. */
  private Effect<Event, RecordState> dedupe(RecordState state, DedupeSpec spec, Rows.Rendered rendered) {
    String text = Rows.text(loaded, state, spec.field());
    if (text == null) {
      return succeed(rendered); // nothing to compare: a skipped or null field is never a duplicate
    }
    if (!deduping) {
      deduping = true;
      context.pipeToSelf(deps.deduper().check(jobId, index, spec, text), (verdict, error) -> new Deduped(verdict, error, rendered));
    }
    return Effect().none();
  }

  private Effect<Event, RecordState> onDeduped(RecordState state, Deduped cmd) {
    deduping = false;
    if (state.isTerminal() || stopping) {
      return stopping && inFlight.isEmpty() ? Effect().stop() : Effect().none();
    }
    if (cmd.error() != null) {
      context.getLog().warn("record {}: the dedupe check failed, trying again: {}", recordKey, cmd.error().toString());
      timers.startSingleTimer("dedupe", Drive.INSTANCE, Duration.ofSeconds(1));
      return Effect().none();
    }
    if (cmd.verdict().unique()) {
      return succeed(cmd.rendered());
    }
    String field = loaded.plan().spec().dedupe().field();
    return fail(new RecordFailed(DUPLICATE, String.format(java.util.Locale.ROOT, "`%s` is a duplicate of record %d's (similarity %.2f)",
        field, cmd.verdict().of(), cmd.verdict().similarity()), null, System.currentTimeMillis()));
  }

  private void send(StepPlanner.Proceed proceed, long now) {
    boolean caching = loaded.plan().spec().cache() && deps.models().caching();
    runTools(proceed.tools());
    for (StepPlanner.PlannedCall call : proceed.calls()) {
      Provider provider;
      try {
        provider = deps.models().provider(call.model().model());
      } catch (IllegalArgumentException e) {
        context.getSelf().tell(new NoProvider(call.id().step(), "no_provider", e.getMessage()));
        return;
      }
      List<ObjectNode> tools = List.of();
      if (!call.tools().isEmpty()) {
        // Listed once per server by the node; the first call of a job waits for it, and plans again.
        var listed = deps.tools().definitions(loaded.plan().spec().tools(), call.tools()).toCompletableFuture();
        if (!listed.isDone() || listed.isCompletedExceptionally()) {
          String step = call.id().step();
          listed.whenComplete((d, e) -> context.getSelf().tell(e == null ? Drive.INSTANCE : new NoProvider(step, TOOL_ERROR,
              "the tools " + call.tools() + " cannot be listed: " + (e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                  ? e.getCause().getMessage() : e.getMessage()))));
          continue;
        }
        tools = listed.join();
      }
      ModelRequest request = CallRequests.owned(
          CallRequests.build(recordKey, index, loaded.plan().spec().seed(), call, provider, caching, tools), loaded.tenant());
      inFlight.put(call.id(), new Pending(call, System.nanoTime()));
      notBefore.remove(call.id());
      deps.models().gateway(call.model().model()).tell(new ModelGateway.Call(request, replies));
      timers.startSingleTimer(call.id(), new Overdue(call.id(), false), deps.callDeadline());
    }
    if (proceed.wakeAt() != Long.MAX_VALUE) {
      timers.startSingleTimer("wake", Drive.INSTANCE, Duration.ofMillis(Math.max(1, proceed.wakeAt() - now)));
    }
  }

  private Effect<Event, RecordState> onNoProvider(RecordState state, NoProvider cmd) {
    return fail(new RecordFailed(cmd.errorType(), cmd.message(), cmd.step(), System.currentTimeMillis()));
  }

  /** Starts the tool calls not running yet; each result comes back as a {@link ToolDone}. */
  private void runTools(List<Outcome.ToolUse> uses) {
    for (Outcome.ToolUse use : uses) {
      if (toolsRunning.add(use.call() + "/" + use.index())) {
        String key = recordKey + "/" + use.call() + "/" + use.index();
        context.pipeToSelf(deps.tools().call(loaded.plan().spec().tools(), use.toolsets(), use.toolCall(), key),
            (result, error) -> new ToolDone(use, result != null ? result : ToolAccess.ToolResult.error("the tool call failed: " + error)));
      }
    }
  }

  /** A tool call's result is persisted before the conversation goes on, so a crash never runs it again. */
  private Effect<Event, RecordState> onToolDone(RecordState state, ToolDone cmd) {
    Outcome.ToolUse use = cmd.use();
    toolsRunning.remove(use.call() + "/" + use.index());
    if (stopping || state.toolResult(use.call(), use.index()) != null) {
      return stopping && inFlight.isEmpty() ? Effect().stop() : Effect().none();
    }
    ToolAccess.ToolResult r = cmd.result();
    return Effect()
        .persist(new ToolCalled(use.call(), use.index(), use.toolCall().id(), use.toolCall().name(), r.server(), r.text(), r.error(),
            node, r.latencyMillis(), System.currentTimeMillis()))
        .thenRun(this::driveLater);
  }

  private Effect<Event, RecordState> fail(RecordFailed failed) {
    return Effect().persist(failed).thenRun(this::saveRow);
  }

  /** An answer the record no longer needs (it ended meanwhile): forget the call, and stop if that was the last one. */
  private Effect<Event, RecordState> onLateReply(RecordState state, GatewayReply cmd) {
    inFlight.remove(cmd.reply().request().callId());
    return stopping && inFlight.isEmpty() ? Effect().stop() : Effect().none();
  }

  private Effect<Event, RecordState> onGatewayReply(RecordState state, GatewayReply cmd) {
    ModelRequest request = cmd.reply().request();
    CallId id = request.callId();
    timers.cancel(id);
    Pending pending = inFlight.remove(id);
    if (pending == null || state.result(id) != null) {
      return stopping && inFlight.isEmpty() ? Effect().stop() : Effect().none();
    }
    long now = System.currentTimeMillis();
    ModelOutcome outcome = cmd.reply().outcome();
    if (outcome instanceof ModelOutcome.Ok ok) {
      return onAnswer(state, cmd.reply(), pending, ok, now);
    }
    if (outcome instanceof ModelOutcome.Failed f) {
      return Effect()
          .persist(new CallFailed(id, request.attempt(), request.fingerprint(), node, f.errorType(), f.retryable(), f.status(),
              f.message(), f.retryAfterMillis(), f.latencyMillis(), now, cmd.reply().endpoint()))
          .thenRun(s -> {
            reportProgress(s, RetryPolicy.waitingFor(s.failures(id), request.model()));
            driveLater(s);
          });
    }
    ModelOutcome.NotSent notSent = (ModelOutcome.NotSent) outcome;
    notBefore.put(id, now + notSent.delayMillis());
    // Held back without a new failure (a tenant's cap, a circuit open): the job says why, once per reason;
    // the failures that opened a circuit say it best ("unavailable (HTTP 503) since ...").
    String known = RetryPolicy.waitingFor(state.failures(id), request.model());
    String why = known != null ? known : notSent.reason();
    if (notSent.delayMillis() > 0 && !notSent.reason().startsWith("cancelled") && !why.equals(toldWaiting)) {
      reportProgress(state, why);
    }
    return drive(state, Drive.INSTANCE);
  }

  /**
   * An answer, read by its step's kind, is journaled before anything else happens; when it is what
   * ends the record, the end is journaled with it.
   */
  private Effect<Event, RecordState> onAnswer(RecordState state, ModelGateway.Reply reply, Pending pending, ModelOutcome.Ok ok,
      long now) {
    ModelRequest request = reply.request();
    CallId id = request.callId();
    JsonNode result;
    try {
      // An answer that asks for tools is read once the tools have answered and the model has.
      result = ok.toolCalls().isEmpty() ? Rows.interpret(loaded, state, id, ok.text()) : null;
    } catch (RuntimeException e) {
      // A kind that cannot read an answer is a bug in the kind: fail this record, not the node.
      context.getLog().error("step {} of record {} could not read an answer", id.step(), recordKey, e);
      return fail(new RecordFailed(STEP_ERROR, "step " + id.step() + " could not read the answer: " + e, id.step(), now));
    }
    CallSucceeded answered = new CallSucceeded(id, request.attempt(), request.fingerprint(), node, request.model(),
        pending.call().newMessages(), ok.text(), ok.finishReason(), ok.usage(), ok.latencyMillis(), now, ok.cached(), result,
        ok.toolCalls(), reply.endpoint());
    Runnable timed = () -> {
      long persisted = System.nanoTime();
      deps.timer().record(id.step(), persisted - pending.plannedNanos() - (reply.answeredNanos() - reply.sentNanos()));
      deps.timer().journaled(id.step(), persisted - reply.answeredNanos());
    };
    Planned ahead = ok.toolCalls().isEmpty() ? planAhead(state, answered, now) : null;
    if (ahead != null && succeedsNow(ahead)) {
      return succeed(List.of(answered), ahead.rendered(), timed); // the outcome carries the counts: no progress report
    }
    return Effect().persist(answered).thenRun(s -> {
      timed.run();
      reportProgress(s, null);
      continueWith(s, ahead);
    });
  }

  /**
   * A call the gateway has not answered by the deadline: withdraw it (a waiting call is answered
   * NotSent and asked again); if even that brings no answer, the gateway lost it: forget it and plan
   * it again, as a call that was never sent.
   */
  private Effect<Event, RecordState> onOverdue(RecordState state, Overdue cmd) {
    Pending pending = inFlight.get(cmd.call());
    if (pending == null) {
      return Effect().none();
    }
    if (!cmd.withdrawn()) {
      context.getLog().warn("record {}: no answer to call {} in {}; withdrawing it", recordKey, cmd.call(), deps.callDeadline());
      deps.models().gateway(pending.call().model().model()).tell(new ModelGateway.Cancel(replies));
      timers.startSingleTimer(cmd.call(), new Overdue(cmd.call(), true), deps.callGrace());
      return Effect().none();
    }
    context.getLog().warn("record {}: call {} was lost by its gateway; asking again", recordKey, cmd.call());
    inFlight.remove(cmd.call());
    return stopping && inFlight.isEmpty() ? Effect().stop() : drive(state, Drive.INSTANCE);
  }

  /** Tells the coordinator the calls journaled so far, and what the record waits for, so the job's counts are live. */
  private void reportProgress(RecordState state, String waitingFor) {
    toldWaiting = waitingFor;
    if (replyTo != null) {
      replyTo.tell(new RecordProgress(jobId, index, state.calls(), state.tokens(), waitingFor, state.costNanos(deps.prices())));
    }
  }

  private void driveLater(RecordState state) {
    context.getSelf().tell(Drive.INSTANCE);
  }

  /**
   * The plan the record will make once {@code event} is journaled, made now from a copy of its
   * state; null where it must plan afterwards (stopping, templates with blocks, which plan aside, or
   * a plan that throws: the answer must reach the journal before that failure restarts the record).
   * Nothing else moves meanwhile: commands wait while an event is written.
   */
  private Planned planAhead(RecordState state, Event event, long now) {
    if (stopping || loaded.plan().hasBlockTemplates()) {
      return null;
    }
    try {
      return Planned.of(loaded, state.with(event), inFlight.keySet(), notBefore, now, resumedAt);
    } catch (RuntimeException e) {
      return null; // the event is written first all the same; planning after it fails as it would have here
    }
  }

  /**
   * After an event is journaled: calls planned ahead go out at once, with no message to itself in
   * between; anything else (the end, values to journal first, a failure) is a drive of its own.
   */
  private void continueWith(RecordState state, Planned ahead) {
    if (ahead != null && ahead.decision() instanceof StepPlanner.Proceed proceed && !proceed.computesValues()) {
      send(proceed, ahead.now());
    } else {
      driveLater(state);
    }
  }

  /** Its job was cancelled: end now, withdraw what waits at the gateways, and stop; no row. */
  private Effect<Event, RecordState> onCancel(RecordState state, RecordProtocol.Cancel cmd) {
    withdrawWaitingCalls();
    inFlight.keySet().forEach(timers::cancel);
    return Effect().persist(new RecordFailed(RecordProtocol.CANCELLED, cmd.reason(), null, System.currentTimeMillis()))
        .thenRun(s -> passivate());
  }

  private void withdrawWaitingCalls() {
    inFlight.values().stream().map(p -> p.call().model().model()).distinct()
        .forEach(model -> deps.models().gateway(model).tell(new ModelGateway.Cancel(replies)));
  }

  /** Writes the ledger row of an ended record (built from its journal, e.g. after recovery); a cancelled one has none. */
  private void saveRow(RecordState state) {
    if (saving || loaded == null) {
      return;
    }
    if (state.failure() != null && RecordProtocol.CANCELLED.equals(state.failure().errorType())) {
      passivate();
      return;
    }
    save(ledgerRow(Rows.ended(jobId, loaded, state), state));
  }

  /** The row with the record's cost, replacing its error row if it was retried. */
  private ResultRow ledgerRow(ResultRow row, RecordState state) {
    return row.withCost(state.costNanos(deps.prices())).retriedAt(state.retriedAt());
  }

  private void save(ResultRow row) {
    if (saving) {
      return;
    }
    saving = true;
    rowSucceeded = row.succeeded();
    context.pipeToSelf(deps.sink().saveIfAbsent(row), (done, error) -> new RowSaved(error == null, error));
  }

  private Effect<Event, RecordState> onRowSaved(RecordState state, RowSaved cmd) {
    saving = false;
    if (!state.isTerminal() && !unknown) {
      return Effect().none(); // the row of an end that a retry has undone since: the record runs on
    }
    if (!cmd.ok()) {
      context.getLog().warn("record {} could not write its row, trying again: {}", recordKey, cmd.error().toString());
      return retryLater();
    }
    reloads = 0;
    if (pendingRetry != null) {
      Ensure retry = pendingRetry;
      pendingRetry = null;
      return retry(retry);
    }
    deps.meters().finished(rowSucceeded);
    if (replyTo == null) {
      // Started without an Ensure (a restart after a failure): give the coordinator's Ensure time to arrive.
      timers.startSingleTimer("unclaimed", Unclaimed.INSTANCE, UNCLAIMED_LINGER);
      return Effect().none();
    }
    replyTo.tell(outcome(state));
    return passivate();
  }

  /** How the record ended, for its coordinator: counts, cost, and a failed record's error type. */
  private RecordOutcome outcome(RecordState state) {
    String errorType = rowSucceeded ? null : state.failure() != null ? state.failure().errorType() : "failed";
    return new RecordOutcome(jobId, index, rowSucceeded, state.calls(), state.tokens(), state.costNanos(deps.prices()), errorType);
  }

  /** Asks the shard to stop this record (buffering messages meanwhile); outside sharding the parent decides. */
  private Effect<Event, RecordState> passivate() {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
    return Effect().none();
  }

  private Effect<Event, RecordState> onStop(RecordState state, RecordProtocol.Stop cmd) {
    stopping = true;
    if (inFlight.isEmpty()) {
      return Effect().stop();
    }
    // Calls still waiting at a gateway must not be sent for a record that is moving to another node.
    withdrawWaitingCalls();
    timers.startSingleTimer("stop", StopNow.INSTANCE, deps.stopTimeout());
    return Effect().none();
  }
}
