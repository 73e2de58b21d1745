package io.skein.worker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.protocol.Usage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.stream.Materializer;

/**
 * An OpenAI-compatible {@code /v1/chat/completions} client on Pekko HTTP's pooled client, with a
 * pool sized for hundreds of concurrent calls. The bearer key is read from the provider's env
 * variable per request and appears nowhere else: not in outcomes, events or logs.
 */
public final class OpenAiHttpClient implements ModelClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Http http;
  private final org.apache.pekko.event.LoggingAdapter log;
  private final Materializer materializer;
  /** Continuations run here: the default async pool spawns a thread per task when it has one core to use. */
  private final java.util.concurrent.Executor executor;
  private final ConnectionPoolSettings pool;
  private final java.util.function.Function<String, String> env;
  /** Which node sent a request, for providers' logs and the simulator's per-node counts; not a secret. */
  private final org.apache.pekko.http.javadsl.model.HttpHeader nodeHeader;
  /** Each provider's completions URL, parsed once: parsing it for every call cost ~3% of a busy node's CPU. */
  private final java.util.Map<String, Uri> uris = new java.util.concurrent.ConcurrentHashMap<>();

  public OpenAiHttpClient(ActorSystem<?> system) {
    this(system, System::getenv);
  }

  public OpenAiHttpClient(ActorSystem<?> system, java.util.function.Function<String, String> env) {
    this.http = Http.get(system);
    this.log = system.classicSystem().log();
    this.materializer = Materializer.matFromSystem(system);
    this.executor = system.executionContext();
    this.env = env;
    this.nodeHeader = org.apache.pekko.http.javadsl.model.headers.RawHeader.create("X-Skein-Node", system.address().hostPort());
    var config = system.settings().config().getConfig("skein.http-client");
    Duration idle = config.getDuration("idle-timeout");
    ClientConnectionSettings connections = ClientConnectionSettings.create(system.classicSystem());
    this.pool = ConnectionPoolSettings.create(system.classicSystem())
        .withMaxConnections(config.getInt("max-connections"))
        .withMaxOpenRequests(openRequests(config.getInt("max-open-requests"), config.getInt("max-connections")))
        .withIdleTimeout(idle)
        .withConnectionSettings(connections.withIdleTimeout(idle)
            // Answers' headers stay raw: Skein reads a few by name (rate limits, Retry-After), and parsing
            // every header of every answer into Pekko's model (a Date alone: 2.5%) was ~5% of a node's CPU.
            .withParserSettings(connections.getParserSettings().withModeledHeaderParsing(false)));
  }

  @Override
  public CompletionStage<ModelOutcome> complete(Provider provider, String body) {
    return send(provider, body).thenApply(Answered::outcome);
  }

  @Override
  public CompletionStage<Answered> send(Provider provider, String body) {
    return send(provider, ModelRequest.CHAT, body);
  }

  @Override
  public CompletionStage<Answered> send(Provider provider, String endpoint, String body) {
    long start = System.nanoTime();
    boolean chat = ModelRequest.CHAT.equals(endpoint);
    HttpRequest request = HttpRequest.create().withMethod(HttpMethods.POST).withUri(uri(chat ? provider.completionsUrl() : provider.url(endpoint)))
        .withEntity(ContentTypes.APPLICATION_JSON, body.getBytes(StandardCharsets.UTF_8))
        .addHeader(nodeHeader);
    String key = provider.apiKeyEnv() == null ? null : env.apply(provider.apiKeyEnv());
    if (key != null && !key.isEmpty()) {
      request = request.addHeader(Authorization.oauth2(key));
    }
    long timeoutMillis = provider.requestTimeout().toMillis();
    CompletableFuture<Answered> future =
        http.singleRequest(request, http.defaultClientHttpsContext(), pool, log)
            .thenComposeAsync(response -> read(response, timeoutMillis, start, key, chat), executor)
            .toCompletableFuture();
    // Not exceptionallyAsync: that hands every answer, failed or not, to the executor once more.
    return future
        .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .exceptionally(error -> new Answered(failure(error, provider, start), RateLimits.NONE));
  }

  private Uri uri(String url) {
    Uri known = uris.get(url);
    if (known != null) {
      return known;
    }
    Uri parsed = Uri.create(url);
    if (uris.size() < 1_000) {  // providers come from config and specs: a few, but never an unbounded map
      uris.put(url, parsed);
    }
    return parsed;
  }

  private CompletionStage<Answered> read(HttpResponse response, long timeoutMillis, long start, String key, boolean chat) {
    if (response.entity() instanceof HttpEntity.Strict strict) {  // the usual answer: read in one piece already
      return CompletableFuture.completedFuture(answer(response, strict, start, key, chat));
    }
    return response.entity().toStrict(timeoutMillis, materializer)
        .thenApplyAsync(strict -> answer(response, strict, start, key, chat), executor);
  }

  private static Answered answer(HttpResponse response, HttpEntity.Strict strict, long start, String key, boolean chat) {
    RateLimits limits = RateLimits.from(name -> response.getHeader(name).map(org.apache.pekko.http.javadsl.model.HttpHeader::value));
    String text = strict.getData().utf8String();
    long latency = (System.nanoTime() - start) / 1_000_000;
    int status = response.status().intValue();
    if (status != 200) {
      long retryAfter = retryAfterMillis(response);
      return new Answered(ModelOutcome.Errors.fromStatus(status, redact(text, key), retryAfter, latency), limits);
    }
    ModelOutcome outcome = chat ? parse(text, latency) : parseEmbeddings(text, latency);
    return new Answered(outcome instanceof ModelOutcome.Failed f
        ? new ModelOutcome.Failed(f.errorType(), f.retryable(), f.status(), redact(f.message(), key), f.retryAfterMillis(), latency)
        : outcome, limits);
  }

  /**
   * A host's pool takes at most this many requests at once (a power of two, as Pekko HTTP wants):
   * the configured number, or, if the connections are more, enough for a call on each (a gateway
   * sends a server no more calls at once than there are connections; several models on one host
   * share its pool, and a call the full pool refuses is answered NotSent).
   */
  static int openRequests(int configured, int connections) {
    int most = Math.max(configured, connections);
    return Integer.highestOneBit(most) == most ? most : Integer.highestOneBit(most) << 1;
  }

  /**
   * A provider's error text goes into the journal, rows and logs; some providers echo the key they
   * were sent (e.g. "Incorrect API key provided: sk-..."), so the key is cut out of it first.
   */
  static String redact(String text, String key) {
    return key == null || key.isEmpty() || text == null ? text : text.replace(key, "[redacted]");
  }

  /**
   * An embeddings answer ({@code {object: list, data: [{embedding: [...], index}], model, usage}}),
   * kept whole as the answer's text: its value is the provider's list as it came.
   */
  static ModelOutcome parseEmbeddings(String text, long latency) {
    try {
      JsonNode root = JSON.readTree(text);
      JsonNode data = root.path("data");
      if (!data.isArray() || data.isEmpty() || !data.path(0).path("embedding").isArray() && !data.path(0).path("embedding").isTextual()) {
        return new ModelOutcome.Failed(ModelOutcome.Errors.INVALID_RESPONSE, true, 200,
            "the response has no data[0].embedding: " + ModelOutcome.Errors.abbreviate(text, 200), 0, latency);
      }
      JsonNode usage = root.path("usage");
      return new ModelOutcome.Ok(root.toString(), "stop", new Usage(usage.path("prompt_tokens").asLong(0), 0), latency);
    } catch (Exception e) {
      return new ModelOutcome.Failed(ModelOutcome.Errors.INVALID_RESPONSE, true, 200,
          "the response is not JSON: " + ModelOutcome.Errors.abbreviate(text, 200), 0, latency);
    }
  }

  static ModelOutcome parse(String text, long latency) {
    try {
      JsonNode root = JSON.readTree(text);
      JsonNode choice = root.path("choices").path(0);
      JsonNode content = choice.path("message").path("content");
      java.util.List<io.skein.protocol.ToolCall> toolCalls = toolCalls(choice.path("message").path("tool_calls"));
      if (!content.isTextual() && toolCalls.isEmpty()) {
        return new ModelOutcome.Failed(ModelOutcome.Errors.INVALID_RESPONSE, true, 200,
            "the response has no choices[0].message.content: " + ModelOutcome.Errors.abbreviate(text, 200), 0, latency);
      }
      JsonNode usage = root.path("usage");
      // Reasoning models served by vLLM and others send their reasoning apart; it travels in front of
      // the answer as a <think> block, as other models write it, and step kinds take it out again.
      JsonNode reasoning = choice.path("message").path("reasoning_content");
      String said = content.isTextual() ? content.asText() : "";
      String answer = reasoning.isTextual() && !reasoning.asText().isBlank()
          ? "<think>" + reasoning.asText() + "</think>\n" + said : said;
      return new ModelOutcome.Ok(answer, choice.path("finish_reason").asText(null),
          new Usage(usage.path("prompt_tokens").asLong(0), usage.path("completion_tokens").asLong(0),
              usage.path("prompt_tokens_details").path("cached_tokens").asLong(0)), latency, false, toolCalls);
    } catch (Exception e) {
      return new ModelOutcome.Failed(ModelOutcome.Errors.INVALID_RESPONSE, true, 200,
          "the response is not JSON: " + ModelOutcome.Errors.abbreviate(text, 200), 0, latency);
    }
  }

  /** {@code message.tool_calls}: the function calls a model asks for (other kinds of tool call are left out). */
  private static java.util.List<io.skein.protocol.ToolCall> toolCalls(JsonNode calls) {
    java.util.List<io.skein.protocol.ToolCall> out = new java.util.ArrayList<>();
    for (JsonNode c : calls) {
      JsonNode function = c.path("function");
      if (function.path("name").isTextual()) {
        JsonNode args = function.path("arguments");
        out.add(new io.skein.protocol.ToolCall(c.path("id").asText("call_" + out.size()), function.get("name").asText(),
            args.isTextual() ? args.asText() : args.isMissingNode() || args.isNull() ? "{}" : args.toString()));
      }
    }
    return out;
  }

  private static long retryAfterMillis(HttpResponse response) {
    var ms = response.getHeader("retry-after-ms");
    if (ms.isPresent()) {
      try {
        return (long) Double.parseDouble(ms.get().value());
      } catch (NumberFormatException ignored) {
        // fall through to Retry-After
      }
    }
    return response.getHeader("Retry-After").map(h -> {
      try {
        return (long) (Double.parseDouble(h.value().trim()) * 1000);
      } catch (NumberFormatException e) {
        try {
          var at = java.time.ZonedDateTime.parse(h.value().trim(), java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
          return Math.max(0, at.toInstant().toEpochMilli() - System.currentTimeMillis());
        } catch (RuntimeException unparsable) {
          return 0L;
        }
      }
    }).orElse(0L);
  }

  private static ModelOutcome failure(Throwable error, Provider provider, long start) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    long latency = (System.nanoTime() - start) / 1_000_000;
    if (cause instanceof org.apache.pekko.stream.BufferOverflowException) {
      // Refused here, before any byte left: no attempt spent, no failure of the provider's.
      return new ModelOutcome.NotSent("this node's connection pool for " + provider.name()
          + " is full (skein.http-client.max-open-requests)", 200);
    }
    if (cause instanceof TimeoutException || cause instanceof java.util.concurrent.TimeoutException) {
      return new ModelOutcome.Failed(ModelOutcome.Errors.TIMEOUT, true, 0,
          "no answer from " + provider.name() + " within " + provider.requestTimeout().toSeconds() + " s", 0, latency);
    }
    return new ModelOutcome.Failed(ModelOutcome.Errors.CONNECTION, true, 0,
        cause.getClass().getSimpleName() + ": " + cause.getMessage(), 0, latency);
  }
}
