package io.skein.deploy.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;

/**
 * An OpenAI-compatible model server for development, tests and benchmarks, part of the product:
 * {@code POST /v1/chat/completions}, {@code POST /v1/embeddings}, {@code GET /v1/models} and {@code GET /stats}. Answers are
 * deterministic plausible text derived from the request body, so runs are reproducible; it honours
 * {@code max_tokens} and reports {@code usage}. Faults (429 with Retry-After, 500, slow answers) are
 * drawn from (seed, request fingerprint, how often that request was seen), so they are the same
 * whatever order requests arrive in, and a retry draws anew. Latency never blocks a thread.
 *
 * <p>Size: the server, its fault injection and the plain-text answers; kind-specific answers
 * (KindAnswers, SchemaAnswers) and the wire format (ChatWire) are already apart.
 */
public final class ModelSimulator {

  /**
   * Requests received, answers sent by status, requests received but not yet answered (now and at
   * most), requests by the Skein node that sent them ({@code X-Skein-Node}), and 429s by what
   * refused them ({@code requests}, {@code tokens}: the per-minute limits; {@code concurrency};
   * {@code injected}: the rate-limit-rate's).
   */
  public record Stats(
      long requests, Map<String, Long> byStatus, long inFlight, long maxInFlight, Map<String, Long> byNode, Map<String, Long> rateLimitedBy) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] WORDS = (
      "the a an this that our your customer team service order account payment plan data system support "
      + "clear simple quick careful steady practical useful reliable direct friendly brief complete "
      + "answer question example detail step reason option result problem solution process policy update "
      + "check confirm review explain describe compare improve reduce ensure provide include consider "
      + "first then next finally also however because therefore usually often sometimes always "
      + "time day week price cost value quality risk change request issue feature setting record "
      + "should can will may might must could would is are was were has have makes helps keeps").split(" ");

  private final ServerBinding binding;
  private final String host;
  private final Handler handler;

  private ModelSimulator(ServerBinding binding, String host, Handler handler) {
    this.binding = binding;
    this.host = host;
    this.handler = handler;
  }

  /** Binds on host:port (0: any free port). */
  public static CompletionStage<ModelSimulator> start(ActorSystem<?> system, SimulatorSettings settings, String host, int port) {
    return start(system, settings, host, port, System::nanoTime);
  }

  /** As above, with the clock (nanoseconds) the rate limits refill by, so tests drive it. */
  static CompletionStage<ModelSimulator> start(
      ActorSystem<?> system, SimulatorSettings settings, String host, int port, LongSupplier nanoClock) {
    Handler handler = new Handler(settings, Materializer.matFromSystem(system), system.executionContext(),
        settings.requestsPerMinute() > 0 || settings.tokensPerMinute() > 0
            ? new RateBuckets(settings.requestsPerMinute(), settings.tokensPerMinute(), nanoClock) : null);
    return Http.get(system).newServerAt(host, port).bind(handler::handle)
        .thenApply(binding -> new ModelSimulator(binding, host, handler));
  }

  /** Runs a simulator in an actor system of its own until the JVM exits. */
  public static void runForever(SimulatorSettings settings, String host, int port) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "skein-simulator",
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING").withFallback(ConfigFactory.load()));
    ModelSimulator simulator = start(system, settings, host, port).toCompletableFuture().get(30, TimeUnit.SECONDS);
    System.out.println("Simulator listening on " + simulator.baseUrl() + " (latency " + settings.latencyMillis() + " ms, 429 rate "
        + settings.rateLimitRate() + ", 500 rate " + settings.errorRate() + ", seed " + settings.seed()
        + (settings.requestsPerMinute() > 0 ? ", " + settings.requestsPerMinute() + " requests/min" : "")
        + (settings.tokensPerMinute() > 0 ? ", " + settings.tokensPerMinute() + " tokens/min" : "") + ")");
    system.getWhenTerminated().toCompletableFuture().get();
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  public String baseUrl() {
    return "http://" + host + ":" + port() + "/v1";
  }

  public Stats stats() {
    long inFlight = handler.inFlight.get();
    long maxInFlight = handler.maxInFlight.get();
    Map<String, Long> byStatus = new TreeMap<>();
    handler.byStatus.forEach((status, n) -> byStatus.put(String.valueOf(status), n.sum()));
    Map<String, Long> byNode = new TreeMap<>();
    handler.byNode.forEach((node, n) -> byNode.put(node, n.sum()));
    Map<String, Long> rateLimitedBy = new TreeMap<>();
    handler.rateLimitedBy.forEach((cause, n) -> rateLimitedBy.put(cause, n.sum()));
    return new Stats(handler.requests.sum(), byStatus, inFlight, maxInFlight, byNode, rateLimitedBy);
  }

  /**
   * An outage: while on, every completion request is answered 503 at once, as a provider that is
   * down (or a load balancer with no backend) answers; off, it answers as before.
   */
  public void outage(boolean on) {
    handler.outage = on;
  }

  /**
   * A broken backend: while on, every completion request is answered 500 (a server error, which a
   * client may retry and which spends an attempt); off, it answers as before.
   */
  public void failing(boolean on) {
    handler.failing = on;
  }

  public CompletionStage<Void> stop() {
    return binding.unbind().thenApply(done -> null);
  }

  /** The request handler: one JSON parse and one JSON write per request. */
  private static final class Handler {
    static final int REMEMBERED = 100_000;
    private final SimulatorSettings settings;
    private final Materializer materializer;
    private final Executor executor;
    final LongAdder requests = new LongAdder();
    final java.util.concurrent.atomic.AtomicLong inFlight = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong maxInFlight = new java.util.concurrent.atomic.AtomicLong();
    final Map<String, LongAdder> byNode = new ConcurrentHashMap<>();
    final Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
    /** 429s by what refused them: the per-minute limits, the concurrency quota, the injected ones. */
    final Map<String, LongAdder> rateLimitedBy = new ConcurrentHashMap<>();
    /**
     * How often each of the last {@value #REMEMBERED} requests was seen, so a retry draws anew. Bounded:
     * a simulator serving a million-record job kept every request it had ever answered (~100 bytes
     * each); a request seen again after that many others starts over, as if new.
     */
    private final Map<Long, Integer> seen = new java.util.LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Integer> eldest) {
        return size() > REMEMBERED;
      }
    };
    /** The system messages seen lately: a prompt that starts with one is served partly "from the prompt cache". */
    private final Map<String, Boolean> prefixes = new java.util.LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > REMEMBERED;
      }
    };

    /**
     * As providers' prompt caches do (OpenAI's {@code usage.prompt_tokens_details.cached_tokens}): a
     * request whose first message is a system message seen before has that message's tokens cached.
     */
    private long cachedPrefix(JsonNode req) {
      JsonNode first = req.path("messages").path(0);
      if (!first.path("role").asText().equals("system")) {
        return 0;
      }
      String text = ChatWire.text(first.path("content"));
      synchronized (prefixes) {
        return prefixes.put(text, Boolean.TRUE) != null ? words(text) : 0;
      }
    }

    /** Null without per-minute limits. */
    private final RateBuckets buckets;
    volatile boolean outage;
    volatile boolean failing;

    Handler(SimulatorSettings settings, Materializer materializer, Executor executor, RateBuckets buckets) {
      this.settings = settings;
      this.materializer = materializer;
      this.executor = executor;
      this.buckets = buckets;
    }

    CompletionStage<HttpResponse> handle(HttpRequest request) {
      String path = request.getUri().path();
      boolean embeddings = path.equals("/v1/embeddings");
      if (request.method() == HttpMethods.POST && (path.equals("/v1/chat/completions") || embeddings)) {
        requests.increment();
        byNode.computeIfAbsent(request.getHeader("X-Skein-Node").map(h -> h.value()).orElse("unknown"), n -> new LongAdder())
            .increment();
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        if (settings.apiKey() != null && !request.getHeader("Authorization")
            .map(h -> h.value().equals("Bearer " + settings.apiKey())).orElse(false)) {
          request.discardEntityBytes(materializer);
          byStatus.computeIfAbsent(401, s -> new LongAdder()).increment();
          inFlight.decrementAndGet();
          return done(error(401, "invalid_api_key", "missing or wrong API key in the Authorization header"));
        }
        if (outage) {
          request.discardEntityBytes(materializer);
          byStatus.computeIfAbsent(503, s -> new LongAdder()).increment();
          inFlight.decrementAndGet();
          return done(error(503, "service_unavailable", "simulated outage"));
        }
        if (failing) {
          request.discardEntityBytes(materializer);
          byStatus.computeIfAbsent(500, s -> new LongAdder()).increment();
          inFlight.decrementAndGet();
          return done(error(500, "server_error", "simulated server error"));
        }
        if (settings.maxConcurrent() > 0 && inFlight.get() > settings.maxConcurrent()) {
          request.discardEntityBytes(materializer);
          byStatus.computeIfAbsent(429, s -> new LongAdder()).increment();
          rateLimitedBy.computeIfAbsent("concurrency", s -> new LongAdder()).increment();
          inFlight.decrementAndGet();
          return done(limits(error(429, "rate_limit_exceeded", "more than " + settings.maxConcurrent() + " requests at once")
              .addHeader(RawHeader.create("retry-after-ms", "200")), peek()));
        }
        return request.entity().toStrict(10_000, materializer)
            .thenCompose(strict -> embeddings ? embed(strict.getData().toArray()) : complete(strict.getData().toArray()))
            .whenComplete((response, error) -> {
              byStatus.computeIfAbsent(response == null ? 500 : response.status().intValue(), s -> new LongAdder()).increment();
              inFlight.decrementAndGet();
            });
      }
      request.discardEntityBytes(materializer);
      if (request.method() == HttpMethods.GET && path.equals("/v1/models")) {
        return done(json(200, models()));
      }
      if (request.method() == HttpMethods.GET && path.equals("/stats")) {
        return done(json(200, statsJson()));
      }
      return done(error(404, "not_found", "no route " + request.method().value() + " " + path));
    }

    /** An embeddings request: a vector per input, after the configured latency. */
    private CompletionStage<HttpResponse> embed(byte[] body) {
      JsonNode req;
      try {
        req = JSON.readTree(body);
      } catch (Exception e) {
        req = null;
      }
      String refused = SimEmbeddings.refusal(req);
      if (refused != null) {
        return done(error(400, "invalid_request_error", refused));
      }
      HttpResponse answer = json(200, SimEmbeddings.answer(req));
      long delay = settings.latencyMillis();
      return delay == 0 ? done(answer)
          : CompletableFuture.supplyAsync(() -> answer, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS, executor));
    }

    private CompletionStage<HttpResponse> complete(byte[] body) {
      JsonNode req;
      try {
        req = JSON.readTree(body);
      } catch (Exception e) {
        return done(limits(error(400, "invalid_request_error", "the body is not JSON: " + e.getMessage()), peek()));
      }
      if (req == null || !req.path("messages").isArray() || req.path("messages").isEmpty()) {
        return done(limits(error(400, "invalid_request_error", "`messages` must be a non-empty list"), peek()));
      }
      String refused = ChatWire.refusal(req);
      if (refused != null) {
        return done(limits(error(400, "invalid_request_error", refused), peek()));
      }
      long tokens = admissionTokens(req);
      RateBuckets.Decision admission = buckets == null ? null : buckets.admit(tokens);
      if (admission != null && !admission.admitted()) {
        rateLimitedBy.computeIfAbsent(admission.refusedBy().name().toLowerCase(java.util.Locale.ROOT), s -> new LongAdder()).increment();
        return done(limits(rateLimited(admission, req.path("model").asText("sim-small"), tokens), admission));
      }
      // How the answer travels (streamed or not) does not change what it is.
      long fingerprint = req.has("stream") || req.has("stream_options")
          ? fingerprint(((ObjectNode) req.deepCopy()).without(java.util.List.of("stream", "stream_options")).toString()
              .getBytes(java.nio.charset.StandardCharsets.UTF_8))
          : fingerprint(body);
      int occurrence;
      synchronized (seen) {
        occurrence = seen.merge(fingerprint, 1, Integer::sum) - 1;
      }
      double fault = uniform(settings.seed(), fingerprint, occurrence, 1);
      double spread = uniform(settings.seed(), fingerprint, occurrence, 2);
      long delay = Math.max(0, Math.round(settings.latencyMillis() * (1 + settings.jitter() * (2 * spread - 1))));
      HttpResponse response;
      if (fault < settings.rateLimitRate()) {
        rateLimitedBy.computeIfAbsent("injected", s -> new LongAdder()).increment();
        response = error(429, "rate_limit_exceeded", "simulated rate limit")
            .addHeader(RawHeader.create("Retry-After", String.valueOf(settings.retryAfterSeconds())));
      } else if (fault < settings.rateLimitRate() + settings.errorRate()) {
        response = error(500, "server_error", "simulated server error");
      } else if (fault < settings.rateLimitRate() + settings.errorRate() + settings.brokenRate()) {
        response = broken(answer(req, fingerprint, occurrence), uniform(settings.seed(), fingerprint, occurrence, 4));
      } else {
        if (fault < settings.rateLimitRate() + settings.errorRate() + settings.brokenRate() + settings.slowRate()) {
          delay *= 10;
        }
        ObjectNode completion = answer(req, fingerprint, occurrence);
        long cachedTokens = cachedPrefix(req);
        if (cachedTokens > 0 && completion.path("usage").isObject()) {
          ((ObjectNode) completion.get("usage")).putObject("prompt_tokens_details").put("cached_tokens", cachedTokens);
        }
        for (int i = 1; i < ChatWire.choices(req); i++) {
          ChatWire.addChoice(completion, answer(req, fingerprint + i * 0x9E3779B97F4A7C15L, occurrence), i);
        }
        response = req.path("stream").asBoolean(false)
            ? HttpResponse.create().withEntity(HttpEntities.create(EVENT_STREAM,
                ChatWire.events(completion, req.path("stream_options").path("include_usage").asBoolean(false))))
            : json(200, completion);
      }
      response = limits(response, admission);
      if (delay == 0) {
        return done(response);
      }
      HttpResponse r = response;
      return CompletableFuture.supplyAsync(() -> r, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS, executor));
    }

    /** A 200 no client can use: the completion cut off halfway, a completion without choices, or an HTML error page. */
    private HttpResponse broken(ObjectNode completion, double which) {
      if (which < 1 / 3.0) {
        String text = completion.toString();
        return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, text.substring(0, text.length() / 2)));
      }
      if (which < 2 / 3.0) {
        completion.putArray("choices");
        return json(200, completion);
      }
      return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8,
          "<html><body><h1>502 Bad Gateway</h1></body></html>"));
    }

    private RateBuckets.Decision peek() {
      return buckets == null ? null : buckets.peek();
    }

    /** What a completion without {@code max_tokens} counts for at admission (the legacy completions' default). */
    private static final int DEFAULT_MAX_TOKENS = 16;

    /**
     * What OpenAI counts against tokens-per-minute when it admits a request, before anything is
     * generated: the prompt's tokens (as {@code usage} will report them) plus the most the answer may
     * take, {@code max_tokens} for each of the {@code n} choices.
     */
    static long admissionTokens(JsonNode req) {
      JsonNode max = req.hasNonNull("max_tokens") ? req.get("max_tokens") : req.path("max_completion_tokens");
      return promptTokens(req) + (max.isIntegralNumber() ? max.asLong() : DEFAULT_MAX_TOKENS) * ChatWire.choices(req);
    }

    /** The prompt's tokens: the words of the messages' text and {@link #IMAGE_TOKENS} an image. */
    static long promptTokens(JsonNode req) {
      long tokens = 0;
      for (JsonNode m : req.path("messages")) {
        tokens += words(ChatWire.text(m.path("content"))) + IMAGE_TOKENS * ChatWire.images(m.path("content"));
      }
      return tokens;
    }

    /** OpenAI's 429 for a per-minute limit, worded as OpenAI words it, with when to come back. */
    private static HttpResponse rateLimited(RateBuckets.Decision d, String model, long tokens) {
      boolean byRequests = d.refusedBy() == RateBuckets.Limit.REQUESTS;
      RateBuckets.Level level = byRequests ? d.requests() : d.tokens();
      String per = byRequests ? "requests per min (RPM)" : "tokens per min (TPM)";
      long requested = byRequests ? 1 : tokens;
      if (d.retryAfterMillis() < 0) {
        return error(429, "rate_limit_exceeded", "Request too large for " + model + " on " + per + ": Limit " + level.limit()
            + ", Requested " + requested + ". The input or output tokens must be reduced in order to run successfully.");
      }
      return error(429, "rate_limit_exceeded", "Rate limit reached for " + per + " on " + model + ": Limit " + level.limit()
          + ", Used " + (level.limit() - level.remaining()) + ", Requested " + requested + ". Please try again in "
          + RateBuckets.goDuration(d.retryAfterMillis()) + ".")
          .addHeader(RawHeader.create("retry-after-ms", String.valueOf(d.retryAfterMillis())))
          .addHeader(RawHeader.create("Retry-After", String.valueOf((d.retryAfterMillis() + 999) / 1000)));
    }

    /** OpenAI's {@code x-ratelimit-*} headers for the limits that are set. */
    private static HttpResponse limits(HttpResponse response, RateBuckets.Decision d) {
      if (d == null) {
        return response;
      }
      HttpResponse r = response;
      if (d.requests() != null) {
        r = r.addHeader(RawHeader.create("x-ratelimit-limit-requests", String.valueOf(d.requests().limit())))
            .addHeader(RawHeader.create("x-ratelimit-remaining-requests", String.valueOf(d.requests().remaining())))
            .addHeader(RawHeader.create("x-ratelimit-reset-requests", RateBuckets.goDuration(d.requests().resetMillis())));
      }
      if (d.tokens() != null) {
        r = r.addHeader(RawHeader.create("x-ratelimit-limit-tokens", String.valueOf(d.tokens().limit())))
            .addHeader(RawHeader.create("x-ratelimit-remaining-tokens", String.valueOf(d.tokens().remaining())))
            .addHeader(RawHeader.create("x-ratelimit-reset-tokens", RateBuckets.goDuration(d.tokens().resetMillis())));
      }
      return r;
    }

    /** What an image counts for in the prompt's tokens (OpenAI's low-detail image). */
    private static final int IMAGE_TOKENS = 85;

    private ObjectNode answer(JsonNode req, long fingerprint, int occurrence) {
      String lastUser = "";
      long promptTokens = promptTokens(req);
      boolean answeredBefore = false;
      int images = 0;
      int toolRounds = 0;
      List<String> toolSaid = new java.util.ArrayList<>();
      for (JsonNode m : req.get("messages")) {
        String content = ChatWire.text(m.path("content"));
        toolRounds += m.path("tool_calls").isEmpty() ? 0 : 1;
        if (m.path("role").asText().equals("tool")) {
          toolSaid.add(content);
        } else if (m.path("role").asText().equals("user")) {
          toolSaid.clear();
        }
        if (m.path("role").asText().equals("user")) {
          lastUser = content;
          images = ChatWire.images(m.path("content"));
        }
        answeredBefore |= m.path("role").asText().equals("assistant");
      }
      java.util.SplittableRandom random = new java.util.SplittableRandom(settings.seed() * 0x9E3779B97F4A7C15L ^ fingerprint);
      JsonNode tools = req.path("tools");
      if (tools.isArray() && !tools.isEmpty() && toolRounds < settings.answers().toolRounds()
          && !"none".equals(req.path("tool_choice").asText())) {
        return ChatWire.toolCalls(completion(req, fingerprint, null, promptTokens, 0, "tool_calls"), tools, random);
      }
      double badDraw = uniform(settings.seed(), fingerprint, occurrence, 3);
      String special = KindAnswers.answer(req, lastUser, random, settings.answers(), badDraw, !answeredBefore);
      if (special != null) {
        return completion(req, fingerprint, special, promptTokens, words(special), "stop");
      }
      int wanted = 20 + random.nextInt(61);
      int max = req.path("max_tokens").isInt() ? Math.max(1, req.get("max_tokens").asInt()) : Integer.MAX_VALUE;
      StringBuilder text = new StringBuilder();
      int produced = 0;
      String[] echo = lastUser.replaceAll("[^A-Za-z0-9 ]", " ").trim().split("\\s+");
      if (echo.length > 0 && !echo[0].isEmpty()) {
        text.append("Regarding");
        produced++;
        for (int i = 0; i < Math.min(3, echo.length) && produced < Math.min(wanted, max); i++) {
          text.append(' ').append(echo[(int) ((Math.max(0, echo.length - 3) + i) % echo.length)].toLowerCase(java.util.Locale.ROOT));
          produced++;
        }
        text.append(':');
      }
      if (!toolSaid.isEmpty()) {
        // What a model that used tools would show: what they said.
        text.append(text.length() == 0 ? "" : " ").append("Tools said: ").append(String.join("; ", toolSaid)).append('.');
      }
      if (images > 0) {
        // What a vision model would show: it saw them.
        text.append(text.length() == 0 ? "" : " ").append("Seen ").append(images).append(images == 1 ? " image." : " images.");
      }
      boolean sentenceStart = text.length() == 0;
      while (produced < Math.min(wanted, max)) {
        String w = WORDS[random.nextInt(WORDS.length)];
        if (text.length() > 0) {
          text.append(' ');
        }
        text.append(sentenceStart ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w);
        produced++;
        sentenceStart = random.nextInt(9) == 0;
        if (sentenceStart) {
          text.append('.');
        }
      }
      if (text.length() > 0 && text.charAt(text.length() - 1) != '.') {
        text.append('.');
      }
      String finish = wanted > max ? "length" : "stop";
      String answerText = req.path("response_format").path("type").asText().equals("json_object")
          ? JSON.createObjectNode().put("answer", text.toString()).toString() : text.toString();
      String content = settings.answers().reasoning() ? "<think>" + KindAnswers.thought(lastUser) + "</think>\n" + answerText : answerText;
      return completion(req, fingerprint, content, promptTokens, produced, finish);
    }

    private static ObjectNode completion(JsonNode req, long fingerprint, String content, long promptTokens, long produced, String finish) {
      ObjectNode root = JSON.createObjectNode();
      root.put("id", "chatcmpl-" + Long.toHexString(fingerprint));
      root.put("object", "chat.completion");
      root.put("created", System.currentTimeMillis() / 1000);
      root.put("model", req.path("model").asText("sim-small"));
      ArrayNode choices = root.putArray("choices");
      ObjectNode choice = choices.addObject();
      choice.put("index", 0);
      choice.putObject("message").put("role", "assistant").put("content", content); // null: tool calls follow
      choice.put("finish_reason", finish);
      root.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", produced)
          .put("total_tokens", promptTokens + produced);
      return root;
    }

    private ObjectNode models() {
      ObjectNode root = JSON.createObjectNode();
      root.put("object", "list");
      ArrayNode data = root.putArray("data");
      for (String id : new String[] {"sim-small", "sim-large"}) {
        data.addObject().put("id", id).put("object", "model").put("owned_by", "skein-simulator");
      }
      return root;
    }

    private ObjectNode statsJson() {
      // Read in the reverse order of the handler's writes (requests, then in flight, then a
      // status once answered), so what one number shows the others include.
      long now = inFlight.get();
      long max = maxInFlight.get();
      ObjectNode root = JSON.createObjectNode();
      ObjectNode statuses = JSON.createObjectNode();
      new TreeMap<>(byStatus).forEach((status, n) -> statuses.put(String.valueOf(status), n.sum()));
      root.put("requests", requests.sum());
      root.set("by_status", statuses);
      root.put("in_flight", now);
      root.put("max_in_flight", max);
      ObjectNode nodes = root.putObject("by_node");
      new TreeMap<>(byNode).forEach((node, n) -> nodes.put(node, n.sum()));
      ObjectNode limited = root.putObject("rate_limited_by");
      new TreeMap<>(rateLimitedBy).forEach((cause, n) -> limited.put(cause, n.sum()));
      return root;
    }

    private static final org.apache.pekko.http.javadsl.model.ContentType.WithFixedCharset EVENT_STREAM =
        org.apache.pekko.http.javadsl.model.MediaTypes.TEXT_EVENT_STREAM.toContentType();

    private static HttpResponse json(int status, ObjectNode body) {
      return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
    }

    private static HttpResponse error(int status, String type, String message) {
      ObjectNode body = JSON.createObjectNode();
      body.putObject("error").put("message", message).put("type", type).putNull("param").put("code", type);
      return json(status, body);
    }

    private static CompletionStage<HttpResponse> done(HttpResponse r) {
      return CompletableFuture.completedFuture(r);
    }

    private static int words(String s) {
      String t = s.trim();
      return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    private static long fingerprint(byte[] body) {
      try {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(body);
        long h = 0;
        for (int i = 0; i < 8; i++) {
          h = (h << 8) | (d[i] & 0xff);
        }
        return h;
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    /** A uniform number in [0, 1) from (seed, fingerprint, occurrence, purpose): SplitMix64 finalizer. */
    static double uniform(long seed, long fingerprint, int occurrence, int purpose) {
      long z = seed * 0x9E3779B97F4A7C15L + fingerprint + occurrence * 0xBF58476D1CE4E5B9L + purpose * 0x94D049BB133111EBL;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z = z ^ (z >>> 31);
      return (z >>> 11) * 0x1.0p-53;
    }
  }
}
