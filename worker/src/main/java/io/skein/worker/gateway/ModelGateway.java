package io.skein.worker.gateway;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One per node per model: owns this node's share of the provider's limits (calls in flight,
 * requests and tokens per minute, each divided by the cluster's up members and re-divided as they
 * come and go), the calls waiting for them (served round-robin between jobs, in order within a
 * job), and a circuit breaker that stops sending when the provider keeps failing. A call with a
 * cache key is first looked up in the response cache: a hit is answered at once, taking no slot
 * and no budget; an answer from the provider is stored there.
 *
 * <p>The concurrency actually used adapts to the provider. It starts at 32 (or the configured share,
 * if lower) and grows by one per answer — doubling each round — until the first 429 or the share;
 * from then on (AIMD) a 429 for a call sent since the last cut cuts it by 30%, and each answer
 * grows it by 1/limit, so a full round of answers adds one call. A provider that refuses more
 * than it admits is thus asked at about the rate it takes, instead of spending calls on 429s. It makes one attempt per request and answers with the outcome; retrying
 * is the record's business. A record that stops cancels its waiting calls, so nothing is sent on
 * behalf of a record that has moved to another node.
 */
public final class ModelGateway extends AbstractBehavior<ModelGateway.Command> {

  public interface Command {}

  public record Call(ModelRequest request, ActorRef<Reply> replyTo) implements Command {}

  /** Withdraws every waiting (not yet sent) call of {@code replyTo}; each is answered NotSent. */
  public record Cancel(ActorRef<Reply> replyTo) implements Command {}

  /** Asks how the gateway stands now. */
  public record GetStats(ActorRef<Stats> replyTo) implements Command {}

  /** This node's share of the configured concurrency, the adaptive limit under it, calls in flight and waiting. */
  public record Stats(String model, int ceiling, int limit, int inFlight, int waiting) {}

  /** The cluster now has {@code members} up members: take 1/members of each limit. */
  public record Resize(int members) implements Command {}

  /** The outcome, with when the request left and its answer came back ({@link System#nanoTime}; 0 if never sent). */
  public record Reply(ModelRequest request, ModelOutcome outcome, long sentNanos, long answeredNanos) {
    public Reply(ModelRequest request, ModelOutcome outcome) {
      this(request, outcome, 0, 0);
    }
  }

  private record Completed(Call call, ModelOutcome outcome, long sentNanos, long answeredNanos) implements Command {}

  /** The fewest calls a gateway sends at once before any answer has told it what the provider takes. */
  static final int INITIAL_WINDOW = 32;

  /**
   * Calls sent at once before the first answer: a quarter of the ceiling (at least {@link
   * #INITIAL_WINDOW}), so slow start, doubling each round, reaches any ceiling within two rounds: a
   * fast provider loses at most two rounds' worth of calls to it, and one that cannot take the
   * ceiling is probed with a quarter of it, not all of it at once.
   */
  static int initialWindow(int ceiling) {
    return Math.min(ceiling, Math.max(INITIAL_WINDOW, ceiling / 4));
  }

  private record LookedUp(Call call, Optional<ModelOutcome.Ok> hit) implements Command {}

  private enum BudgetRefilled implements Command { INSTANCE }

  /**
   * Breaker settings: opens after {@code failures} consecutive server-side failures, for
   * {@code openFor}; at most {@code maxQueued} calls wait; a gateway with nothing to do for
   * {@code idleAfter} stops (the next call for its model makes a new one), so the gateways of a node
   * are bounded by the models in use, however many names requests have named.
   */
  public record Settings(int failures, Duration openFor, int maxQueued, Duration idleAfter) {
    public static final Settings DEFAULT = new Settings(50, Duration.ofSeconds(5), 200_000);

    public Settings(int failures, Duration openFor, int maxQueued) {
      this(failures, openFor, maxQueued, Duration.ofMinutes(10));
    }
  }

  private enum IdleCheck implements Command { INSTANCE }

  public static Behavior<Command> create(Provider provider, ModelClient client, Settings settings) {
    return create(provider, client, settings, 1, ResponseCache.NONE);
  }

  public static Behavior<Command> create(Provider provider, ModelClient client, Settings settings, int members, ResponseCache cache) {
    return create(provider, client, settings, members, cache, () -> { });
  }

  /** {@code onIdleStop} runs (on the gateway's thread) just before an idle gateway stops. */
  public static Behavior<Command> create(Provider provider, ModelClient client, Settings settings, int members, ResponseCache cache,
      Runnable onIdleStop) {
    return create(provider, client, settings, members, cache, onIdleStop, GatewayMeters.none(provider.name()));
  }

  /** As above, counting what it does in {@code meters}. */
  public static Behavior<Command> create(Provider provider, ModelClient client, Settings settings, int members, ResponseCache cache,
      Runnable onIdleStop, GatewayMeters meters) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ModelGateway(ctx, timers, provider, client, settings, members, cache,
        onIdleStop, meters)));
  }

  private final TimerScheduler<Command> timers;
  private final Provider provider;
  private final ModelClient client;
  private final Settings settings;
  private final ResponseCache cache;
  /** Calls being looked up in the cache, per record; a record that cancels meanwhile is remembered here. */
  private final Map<ActorRef<Reply>, Integer> lookups = new HashMap<>();
  private final Set<ActorRef<Reply>> cancelledInLookup = new HashSet<>();
  private final FairQueue<Call> waiting = new FairQueue<>(c -> jobOf(c.request().recordKey()));
  private final Budget requests;
  private final Budget tokens;
  /** This node's share of the configured concurrency: the most the adaptive limit may reach. */
  private int ceiling;
  /** The adaptive limit, below the ceiling after 429s; calls in flight stay under its floor. */
  private double window;
  private long lastCutNanos;
  /** Until the first 429: grow by one per answer (doubling per round) rather than one per round. */
  private boolean slowStart = true;
  private long lastCutLoggedMillis;
  private int inFlight;
  private int consecutiveFailures;
  private long openUntil;
  private final Runnable onIdleStop;
  private final GatewayMeters meters;
  private long lastBusyNanos = System.nanoTime();

  private ModelGateway(ActorContext<Command> ctx, TimerScheduler<Command> timers, Provider provider, ModelClient client,
      Settings settings, int members, ResponseCache cache, Runnable onIdleStop, GatewayMeters meters) {
    super(ctx);
    this.onIdleStop = onIdleStop;
    this.meters = meters;
    timers.startTimerWithFixedDelay(IdleCheck.INSTANCE, settings.idleAfter().dividedBy(2));
    this.timers = timers;
    this.provider = provider;
    this.client = client;
    this.settings = settings;
    this.cache = cache;
    long now = System.currentTimeMillis();
    this.requests = new Budget(0, now);
    this.tokens = new Budget(0, now);
    share(members, now);
    publish();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Call.class, this::onCall)
        .onMessage(LookedUp.class, this::onLookedUp)
        .onMessage(Completed.class, this::onCompleted)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(Resize.class, this::onResize)
        .onMessage(GetStats.class, get -> {
          get.replyTo().tell(new Stats(provider.name(), ceiling, limit(), inFlight, waiting.size()));
          return this;
        })
        .onMessageEquals(BudgetRefilled.INSTANCE, this::drain)
        .onMessageEquals(IdleCheck.INSTANCE, this::onIdleCheck)
        .build();
  }

  /** Stops once nothing has waited, been in flight or been looked up for {@code idleAfter}. */
  private Behavior<Command> onIdleCheck() {
    long now = System.nanoTime();
    if (inFlight > 0 || !waiting.isEmpty() || !lookups.isEmpty()) {
      lastBusyNanos = now;
      return this;
    }
    if (now - lastBusyNanos < settings.idleAfter().toNanos()) {
      return this;
    }
    getContext().getLog().debug("gateway for {} idle for {}: stopping", provider.name(), settings.idleAfter());
    onIdleStop.run();
    return Behaviors.stopped();
  }

  /** This node's share of the cluster-wide limits. */
  private void share(int members, long now) {
    int m = Math.max(1, members);
    int previous = ceiling;
    ceiling = Math.max(1, (int) Math.ceil(provider.maxConcurrency() / (double) m));
    if (previous == 0) {
      window = initialWindow(ceiling);
    } else {
      window = window >= previous ? ceiling : Math.min(window, ceiling);
    }
    requests.resize(provider.requestsPerMinute() / (double) m, now);
    tokens.resize(provider.tokensPerMinute() / (double) m, now);
  }

  private Behavior<Command> onCall(Call call) {
    lastBusyNanos = System.nanoTime();
    String key = call.request().cacheKey();
    if (key != null) {
      lookups.merge(call.replyTo(), 1, Integer::sum);
      getContext().pipeToSelf(cache.get(key), (hit, error) -> new LookedUp(call, hit != null ? hit : Optional.empty()));
      return this;
    }
    return enqueue(call);
  }

  private Behavior<Command> onLookedUp(LookedUp looked) {
    Call call = looked.call();
    boolean cancelled = cancelledInLookup.contains(call.replyTo());
    if (lookups.merge(call.replyTo(), -1, Integer::sum) <= 0) {
      lookups.remove(call.replyTo());
      cancelledInLookup.remove(call.replyTo());
    }
    if (cancelled) {
      call.replyTo().tell(new Reply(call.request(), new ModelOutcome.NotSent("cancelled: the record is stopping", 0)));
      return this;
    }
    if (looked.hit().isPresent()) {
      meters.completed(looked.hit().get());
      long now = System.nanoTime();
      call.replyTo().tell(new Reply(call.request(), looked.hit().get(), now, now));
      return this;
    }
    return enqueue(call);
  }

  private Behavior<Command> enqueue(Call call) {
    long now = System.currentTimeMillis();
    if (now < openUntil) {
      meters.notSent("circuit_open");
      call.replyTo().tell(new Reply(call.request(),
          new ModelOutcome.NotSent("circuit open for " + provider.name(), openUntil - now)));
    } else if (waiting.size() >= settings.maxQueued()) {
      meters.notSent("queue_full");
      call.replyTo().tell(new Reply(call.request(), new ModelOutcome.NotSent("gateway queue full", 1000)));
    } else {
      waiting.add(call);
      drain();
    }
    return this;
  }

  private Behavior<Command> onCompleted(Completed done) {
    inFlight--;
    meters.completed(done.outcome());
    long now = System.currentTimeMillis();
    if (done.outcome() instanceof ModelOutcome.Failed limited && limited.errorType().equals(ModelOutcome.Errors.RATE_LIMITED)) {
      cut(done.sentNanos(), now);
    } else if (done.outcome() instanceof ModelOutcome.Failed failed && serverSide(failed)) {
      if (++consecutiveFailures >= settings.failures()) {
        openUntil = now + settings.openFor().toMillis();
        consecutiveFailures = 0;
        getContext().getLog().warn("circuit opened for {} after {} consecutive failures; last: {}",
            provider.name(), settings.failures(), failed.message());
        rejectWaiting("circuit open for " + provider.name(), settings.openFor().toMillis());
      }
    } else if (done.outcome() instanceof ModelOutcome.Ok ok) {
      consecutiveFailures = 0;
      window = Math.min(ceiling, window + (slowStart ? 1.0 : 1.0 / Math.max(1.0, window)));
      tokens.adjust(done.call().request().estimatedTokens() - ok.usage().total(), now);
      if (done.call().request().cacheKey() != null && ok.toolCalls().isEmpty()) {
        // The cache keeps answers' text; an answer that asks for tools is asked again on a rerun.
        cache.put(done.call().request().cacheKey(), ok);
      }
    }
    done.call().replyTo().tell(new Reply(done.call().request(), done.outcome(), done.sentNanos(), done.answeredNanos()));
    return drain();
  }

  private Behavior<Command> onCancel(Cancel cancel) {
    if (lookups.containsKey(cancel.replyTo())) {
      cancelledInLookup.add(cancel.replyTo());
    }
    waiting.removeIf(c -> c.replyTo().equals(cancel.replyTo()),
        c -> c.replyTo().tell(new Reply(c.request(), new ModelOutcome.NotSent("cancelled: the record is stopping", 0))));
    publish();
    return this;
  }

  /** A record key is {@code <jobId>/<index>}. */
  private static String jobOf(String recordKey) {
    int slash = recordKey.lastIndexOf('/');
    return slash < 0 ? recordKey : recordKey.substring(0, slash);
  }

  /** A 429: cut the window, once per round (429s for calls sent before the last cut say nothing new). */
  private void cut(long sentNanos, long nowMillis) {
    if (sentNanos < lastCutNanos) {
      return;
    }
    slowStart = false;
    window = Math.max(1, window * 0.7);
    lastCutNanos = System.nanoTime();
    if (nowMillis - lastCutLoggedMillis > 10_000) {
      lastCutLoggedMillis = nowMillis;
      getContext().getLog().info("{} rate-limits this node; sending at most {} calls at once (of {})", provider.name(),
          limit(), ceiling);
    }
  }

  /** Calls this node may have in flight now. */
  private int limit() {
    return Math.max(1, (int) window);
  }

  private Behavior<Command> onResize(Resize resize) {
    share(resize.members(), System.currentTimeMillis());
    return drain();
  }

  /** Sends waiting calls, taking turns between jobs, while this node's share of every limit allows. */
  private Behavior<Command> drain() {
    long now = System.currentTimeMillis();
    while (inFlight < limit() && !waiting.isEmpty()) {
      Call next = waiting.peek();
      long estimate = next.request().estimatedTokens();
      if (!requests.tryTake(1, now)) {
        waitFor(requests.millisUntil(1, now));
        break;
      }
      if (!tokens.tryTake(estimate, now)) {
        requests.adjust(1, now);
        waitFor(tokens.millisUntil(estimate, now));
        break;
      }
      send(waiting.poll());
    }
    publish();
    return this;
  }

  private void publish() {
    meters.state(ceiling, limit(), inFlight, waiting.size());
  }

  private void waitFor(long millis) {
    if (!timers.isTimerActive("budget")) {
      timers.startSingleTimer("budget", BudgetRefilled.INSTANCE, Duration.ofMillis(Math.max(1, millis)));
    }
  }

  private void rejectWaiting(String reason, long delay) {
    Call c;
    while ((c = waiting.poll()) != null) {
      meters.notSent("circuit_open");
      c.replyTo().tell(new Reply(c.request(), new ModelOutcome.NotSent(reason, delay)));
    }
    publish();
  }

  private static boolean serverSide(ModelOutcome.Failed f) {
    return f.errorType().equals(ModelOutcome.Errors.SERVER_ERROR)
        || f.errorType().equals(ModelOutcome.Errors.TIMEOUT)
        || f.errorType().equals(ModelOutcome.Errors.CONNECTION);
  }

  private void send(Call call) {
    inFlight++;
    long sent = System.nanoTime();
    Provider to = call.request().timeout() == null ? provider : provider.withRequestTimeout(call.request().timeout());
    java.util.concurrent.CompletionStage<ModelOutcome> outcome;
    try {
      outcome = client.complete(to, call.request().body());
    } catch (RuntimeException e) {
      // A client that throws (a request it cannot even build) answers this call; the gateway goes on.
      outcome = java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    var answered = outcome.thenApply(o -> new Completed(call, o, sent, System.nanoTime()));
    getContext().pipeToSelf(answered, (done, error) -> done != null ? done
        : new Completed(call, new ModelOutcome.Failed(ModelOutcome.Errors.CONNECTION, true, 0, String.valueOf(error), 0, 0),
            sent, System.nanoTime()));
  }
}
