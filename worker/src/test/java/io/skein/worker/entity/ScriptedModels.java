package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.protocol.Usage;
import io.skein.worker.gateway.ModelAccess;
import io.skein.worker.gateway.ModelClient;
import io.skein.worker.gateway.ModelGateway;
import io.skein.worker.gateway.ModelOutcome;
import io.skein.worker.gateway.Provider;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Models for entity tests: a real {@link ModelGateway} in front of a scripted client that records
 * every request it is sent and answers by a rule the test sets (or holds the answer back).
 */
final class ScriptedModels implements ModelAccess {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One request as the provider saw it: the last user message identifies the step in tests. */
  record Sent(String lastUserMessage, long seed, String body) {}

  final List<Sent> sent = new CopyOnWriteArrayList<>();
  private volatile Function<Sent, CompletionStage<ModelOutcome>> rule = s -> ok("answer to " + s.lastUserMessage());
  private final ActorRef<ModelGateway.Command> gateway;
  private final Provider provider = new Provider("scripted", "http://scripted.invalid/v1", null, "scripted-model", 8, Duration.ofSeconds(5));
  private final ConcurrentHashMap<String, CompletableFuture<ModelOutcome>> held = new ConcurrentHashMap<>();

  ScriptedModels(ActorSystem<?> system, String name) {
    ModelClient client = (p, body) -> {
      Sent s = parse(body);
      sent.add(s);
      return rule.apply(s);
    };
    this.gateway = system.systemActorOf(ModelGateway.create(provider, client, ModelGateway.Settings.DEFAULT), name,
        org.apache.pekko.actor.typed.Props.empty());
  }

  void answerWith(Function<Sent, CompletionStage<ModelOutcome>> rule) {
    this.rule = rule;
  }

  /** Requests whose last user message starts with {@code marker} are never answered (until released). */
  void holdWhen(String marker) {
    var previous = rule;
    rule = s -> {
      if (s.lastUserMessage().startsWith(marker)) {
        return held.computeIfAbsent(s.body(), k -> new CompletableFuture<>());
      }
      return previous.apply(s);
    };
  }

  /** Requests whose last user message starts with {@code marker}. */
  long sentContaining(String marker) {
    return sent.stream().filter(s -> s.lastUserMessage().startsWith(marker)).count();
  }

  static CompletionStage<ModelOutcome> ok(String text) {
    return CompletableFuture.completedFuture(new ModelOutcome.Ok(text, "stop", new Usage(10, 5), 3));
  }

  static CompletionStage<ModelOutcome> status(int code) {
    return CompletableFuture.completedFuture(ModelOutcome.Errors.fromStatus(code, "{\"error\":\"scripted\"}", 0, 2));
  }

  @Override
  public Provider provider(String model) {
    return provider;
  }

  @Override
  public ActorRef<ModelGateway.Command> gateway(String model) {
    return gateway;
  }

  private static Sent parse(String body) {
    try {
      JsonNode root = JSON.readTree(body);
      String last = "";
      for (JsonNode m : root.get("messages")) {
        if (m.get("role").asText().equals("user")) {
          last = m.get("content").asText();
        }
      }
      return new Sent(last, root.path("seed").asLong(), body);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
