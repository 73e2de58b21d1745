package io.skein.worker.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
 * One per node per model: the calls waiting to be sent (served round-robin between jobs, in order
 * within a job) and the servers they go to ({@link Lanes}): for each, this node's share of its limits
 * (calls in flight, requests and tokens per minute, divided by the cluster's up members and
 * re-divided as they come and go), the concurrency adapted to its 429s, the budgets its rate-limit
 * headers report, and a circuit breaker. A call with a cache key is first looked up in the response
 * cache: a hit is answered at once, taking no slot and no budget; an answer from a server is stored
 * there, under a key that names the model, not the server.
 *
 * <p>It makes one attempt per request and answers with the outcome and the server that gave it;
 * retrying is the record's business (a retry goes to whichever server can take it). A record that
 * stops cancels its waiting calls, so nothing is sent on behalf of a record that has moved to
 * another node.
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

  /**
   * The outcome, with when the request left and its answer came back ({@link System#nanoTime}; 0 if
   * never sent) and the name of the server that gave it (null: none did — the cache, or not sent).
   */
  public record Reply(ModelRequest request, ModelOutcome outcome, long sentNanos, long answeredNanos, String endpoint) {
    public Reply(ModelRequest request, ModelOutcome outcome) {
      this(request, outcome, 0, 0, null);
    }

    public Reply(ModelRequest request, ModelOutcome outcome, long sentNanos, long answeredNanos) {
      this(request, outcome, sentNanos, answeredNanos, null);
    }
  }

  private record Completed(Call call, Lane lane, Lane.Sent sent, ModelClient.Answered answer, long answeredNanos) implements Command {}

  private record LookedUp(Call call, Optional<ModelOutcome.Ok> hit) implements Command {}

  private enum BudgetRefilled implements Command { INSTANCE }

  /**
   * Breaker settings: opens after {@code failures} consecutive server-side failures, for
   * {@code openFor}; at most {@code maxQueued} calls wait; a gateway with nothing to do for
   * {@code idleAfter} stops (the next call for its model makes a new one), so the gateways of a node
   * are bounded by the models in use, however many names requests have named. {@code connections}:
   * the most calls a server is sent at once from this node, whatever its limit — the HTTP client's
   * connections to it, one call each: a call beyond them would wait in the client's queue, where its
   * request timeout already runs, instead of here, where waiting costs nothing.
   */
  public record Settings(int failures, Duration openFor, int maxQueued, Duration idleAfter, int connections) {
    public static final Settings DEFAULT = new Settings(50, Duration.ofSeconds(5), 200_000);

    public Settings(int failures, Duration openFor, int maxQueued) {
      this(failures, openFor, maxQueued, Duration.ofMinutes(10));
    }

    public Settings(int failures, Duration openFor, int maxQueued, Duration idleAfter) {
      this(failures, openFor, maxQueued, idleAfter, Integer.MAX_VALUE);
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
    return create(provider, client, settings, members, cache, onIdleStop, meters, TenantRates.NONE);
  }

  /** As above, holding each tenant's calls to its share of {@code tenantRates}. */
  public static Behavior<Command> create(Provider provider, ModelClient client, Settings settings, int members, ResponseCache cache,
      Runnable onIdleStop, GatewayMeters meters, TenantRates tenantRates) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ModelGateway(ctx, timers, provider, client, settings, members, cache,
        onIdleStop, meters, tenantRates)));
  }

  private final TimerScheduler<Command> timers;
  private final Provider provider;
  private final ModelClient client;
  private final Settings settings;
  private final ResponseCache cache;
  /** Calls being looked up in the cache, per record; a record that cancels meanwhile is remembered here. */
  private final Map<ActorRef<Reply>, Integer> lookups = new HashMap<>();
  private final Set<ActorRef<Reply>> cancelledInLookup = new HashSet<>();
  private final FairQueue<Call> waiting = new FairQueue<>(c -> c.request().tenant(), c -> jobOf(c.request().recordKey()));
  private final Lanes lanes;
  private long lastCutLoggedMillis;
  private final Runnable onIdleStop;
  private final GatewayMeters meters;
  private final TenantRates tenantRates;
  private long lastBusyNanos = System.nanoTime();

  private ModelGateway(ActorContext<Command> ctx, TimerScheduler<Command> timers, Provider provider, ModelClient client,
      Settings settings, int members, ResponseCache cache, Runnable onIdleStop, GatewayMeters meters, TenantRates tenantRates) {
    super(ctx);
    this.tenantRates = tenantRates;
    this.onIdleStop = onIdleStop;
    this.meters = meters;
    timers.startTimerWithFixedDelay(IdleCheck.INSTANCE, settings.idleAfter().dividedBy(2));
    this.timers = timers;
    this.provider = provider;
    this.client = client;
    this.settings = settings;
    this.cache = cache;
    this.lanes = new Lanes(provider.servers(), members, settings.connections(), System.currentTimeMillis());
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
          get.replyTo().tell(new Stats(provider.name(), lanes.ceiling(), lanes.limit(), lanes.inFlight(), waiting.size()));
          return this;
        })
        .onMessageEquals(BudgetRefilled.INSTANCE, this::drain)
        .onMessageEquals(IdleCheck.INSTANCE, this::onIdleCheck)
        .build();
  }

  /** Stops once nothing has waited, been in flight or been looked up for {@code idleAfter}. */
  private Behavior<Command> onIdleCheck() {
    long now = System.nanoTime();
    if (lanes.inFlight() > 0 || !waiting.isEmpty() || !lookups.isEmpty()) {
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
    if (lanes.allOpen(now)) {
      meters.notSent("circuit_open");
      call.replyTo().tell(new Reply(call.request(),
          new ModelOutcome.NotSent("circuit open for " + provider.name(), lanes.openFor(now))));
    } else if (waiting.size() >= settings.maxQueued()) {
      meters.notSent("queue_full");
      call.replyTo().tell(new Reply(call.request(), new ModelOutcome.NotSent("gateway queue full", 1000)));
    } else {
      long wait = tenantRates.take(call.request().tenant(), System.nanoTime());
      if (wait > 0) {
        meters.notSent("tenant_rate");
        call.replyTo().tell(new Reply(call.request(), new ModelOutcome.NotSent("tenant `" + call.request().tenant() + "` is at its "
            + tenantRates.cap(call.request().tenant()) + " requests per minute", wait)));
      } else {
        waiting.add(call);
        drain();
      }
    }
    return this;
  }

  private Behavior<Command> onCompleted(Completed done) {
    ModelOutcome outcome = done.answer().outcome();
    meters.completed(outcome);
    long now = System.currentTimeMillis();
    Lane.Change change = lanes.answered(done.lane(), outcome, done.answer().limits(), done.sent(), now, System.nanoTime(),
        settings.failures(), settings.openFor().toMillis());
    String server = done.lane().endpoint().name();
    if (change == Lane.Change.CUT && now - lastCutLoggedMillis > 10_000) {
      lastCutLoggedMillis = now;
      getContext().getLog().info("{} ({}) rate-limits this node; sending at most {} calls at once (of {})", provider.name(), server,
          done.lane().limit(), done.lane().ceiling());
    } else if (change == Lane.Change.OPENED) {
      getContext().getLog().warn("circuit opened for {} ({}) after consecutive failures; last: {}", provider.name(), server,
          ((ModelOutcome.Failed) outcome).message());
      if (lanes.allOpen(now)) {
        rejectWaiting("circuit open for " + provider.name(), lanes.openFor(now));
      }
    }
    if (outcome instanceof ModelOutcome.Ok ok && done.call().request().cacheKey() != null && ok.toolCalls().isEmpty()) {
      // The cache keeps answers' text; an answer that asks for tools is asked again on a rerun.
      cache.put(done.call().request().cacheKey(), ok);
    }
    done.call().replyTo().tell(new Reply(done.call().request(), outcome, done.sent().atNanos(), done.answeredNanos(), server));
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

  private Behavior<Command> onResize(Resize resize) {
    lanes.share(resize.members(), System.currentTimeMillis());
    return drain();
  }

  /** Sends waiting calls, taking turns between jobs, each to a server whose limits allow it now. */
  private Behavior<Command> drain() {
    long now = System.currentTimeMillis();
    while (!waiting.isEmpty()) {
      long estimate = waiting.peek().request().estimatedTokens();
      Lane lane = lanes.pick(estimate, now);
      if (lane == null) {
        long wait = lanes.readyIn(estimate, now);
        if (wait != Long.MAX_VALUE) {
          waitFor(wait);
        }
        break;
      }
      send(waiting.poll(), lane, now);
    }
    publish();
    return this;
  }

  private void publish() {
    meters.state(lanes.ceiling(), lanes.limit(), lanes.inFlight(), waiting.size());
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

  private void send(Call call, Lane lane, long now) {
    long nanos = System.nanoTime();
    Lane.Sent sent = lane.send(call.request().estimatedTokens(), now, nanos);
    Provider server = lane.endpoint().target();
    Provider to = call.request().timeout() == null ? server : server.withRequestTimeout(call.request().timeout());
    CompletionStage<ModelClient.Answered> answer;
    try {
      answer = client.send(to, call.request().endpoint(), bodyFor(server, call.request().body()));
    } catch (RuntimeException e) {
      // A client that throws (a request it cannot even build) answers this call; the gateway goes on.
      answer = CompletableFuture.failedFuture(e);
    }
    var answered = answer.thenApply(a -> new Completed(call, lane, sent, a, System.nanoTime()));
    getContext().pipeToSelf(answered, (done, error) -> done != null ? done
        : new Completed(call, lane, sent, new ModelClient.Answered(
            new ModelOutcome.Failed(ModelOutcome.Errors.CONNECTION, true, 0, String.valueOf(error), 0, 0), RateLimits.NONE),
            System.nanoTime()));
  }

  /** The body as {@code server} takes it: the model's name there, where it serves the model under another. */
  private String bodyFor(Provider server, String body) {
    if (server.model().equals(provider.model())) {
      return body;
    }
    try {
      ObjectNode json = (ObjectNode) JSON.readTree(body);
      json.put("model", server.model());
      return json.toString();
    } catch (java.io.IOException | ClassCastException e) {
      return body;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
}
