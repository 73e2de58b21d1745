package io.skein.worker.gateway;

import java.time.Duration;
import java.util.ArrayDeque;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One per node per provider: owns the provider's concurrency limit (requests beyond it wait here,
 * in arrival order) and a circuit breaker that stops sending when the provider keeps failing. It
 * makes one attempt per request and answers with the outcome; retrying is the record's business.
 */
public final class ModelGateway extends AbstractBehavior<ModelGateway.Command> {

  public interface Command {}

  public record Call(ModelRequest request, ActorRef<Reply> replyTo) implements Command {}

  /** The outcome, with when the request left and its answer came back ({@link System#nanoTime}; 0 if never sent). */
  public record Reply(ModelRequest request, ModelOutcome outcome, long sentNanos, long answeredNanos) {
    public Reply(ModelRequest request, ModelOutcome outcome) {
      this(request, outcome, 0, 0);
    }
  }

  private record Completed(Call call, ModelOutcome outcome, long sentNanos, long answeredNanos) implements Command {}

  /** Breaker settings: opens after {@code failures} consecutive server-side failures, for {@code openFor}. */
  public record Settings(int failures, Duration openFor, int maxQueued) {
    public static final Settings DEFAULT = new Settings(50, Duration.ofSeconds(5), 200_000);
  }

  public static Behavior<Command> create(Provider provider, ModelClient client, Settings settings) {
    return Behaviors.setup(ctx -> new ModelGateway(ctx, provider, client, settings));
  }

  private final Provider provider;
  private final ModelClient client;
  private final Settings settings;
  private final ArrayDeque<Call> waiting = new ArrayDeque<>();
  private int inFlight;
  private int consecutiveFailures;
  private long openUntil;

  private ModelGateway(ActorContext<Command> ctx, Provider provider, ModelClient client, Settings settings) {
    super(ctx);
    this.provider = provider;
    this.client = client;
    this.settings = settings;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Call.class, this::onCall)
        .onMessage(Completed.class, this::onCompleted)
        .build();
  }

  private Behavior<Command> onCall(Call call) {
    long now = System.currentTimeMillis();
    if (now < openUntil) {
      call.replyTo().tell(new Reply(call.request(),
          new ModelOutcome.NotSent("circuit open for " + provider.name(), openUntil - now)));
    } else if (inFlight < provider.maxConcurrency()) {
      send(call);
    } else if (waiting.size() >= settings.maxQueued()) {
      call.replyTo().tell(new Reply(call.request(), new ModelOutcome.NotSent("gateway queue full", 1000)));
    } else {
      waiting.add(call);
    }
    return this;
  }

  private Behavior<Command> onCompleted(Completed done) {
    inFlight--;
    if (done.outcome() instanceof ModelOutcome.Failed failed && serverSide(failed)) {
      if (++consecutiveFailures >= settings.failures()) {
        openUntil = System.currentTimeMillis() + settings.openFor().toMillis();
        consecutiveFailures = 0;
        getContext().getLog().warn("circuit opened for {} after {} consecutive failures; last: {}",
            provider.name(), settings.failures(), failed.message());
        rejectWaiting();
      }
    } else if (done.outcome() instanceof ModelOutcome.Ok) {
      consecutiveFailures = 0;
    }
    done.call().replyTo().tell(new Reply(done.call().request(), done.outcome(), done.sentNanos(), done.answeredNanos()));
    while (inFlight < provider.maxConcurrency() && !waiting.isEmpty()) {
      send(waiting.poll());
    }
    return this;
  }

  private void rejectWaiting() {
    long delay = settings.openFor().toMillis();
    Call c;
    while ((c = waiting.poll()) != null) {
      c.replyTo().tell(new Reply(c.request(), new ModelOutcome.NotSent("circuit open for " + provider.name(), delay)));
    }
  }

  private static boolean serverSide(ModelOutcome.Failed f) {
    return f.errorType().equals(ModelOutcome.Errors.SERVER_ERROR)
        || f.errorType().equals(ModelOutcome.Errors.TIMEOUT)
        || f.errorType().equals(ModelOutcome.Errors.CONNECTION);
  }

  private void send(Call call) {
    inFlight++;
    long sent = System.nanoTime();
    var answered = client.complete(provider, call.request().body())
        .thenApply(outcome -> new Completed(call, outcome, sent, System.nanoTime()));
    getContext().pipeToSelf(answered, (done, error) -> done != null ? done
        : new Completed(call, new ModelOutcome.Failed(ModelOutcome.Errors.CONNECTION, true, 0, String.valueOf(error.getMessage()), 0, 0),
            sent, System.nanoTime()));
  }
}
