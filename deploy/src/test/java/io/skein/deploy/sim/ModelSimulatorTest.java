package io.skein.deploy.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The simulator over real HTTP on port 0: the OpenAI answer shape, text that is a pure function of
 * the request body, {@code max_tokens} and {@code usage}, the counters, and a fault model that is
 * reproducible across instances and arrival orders, with latency that does not hold a thread.
 */
class ModelSimulatorTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private static ActorSystem<Void> system;
  private static ModelSimulator plain;

  @BeforeAll
  static void startSystem() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "sim-test",
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING").withFallback(ConfigFactory.load()));
    plain = start(SimulatorSettings.DEFAULT);
  }

  @AfterAll
  static void stopSystem() {
    system.terminate();
  }

  private static ModelSimulator start(SimulatorSettings settings) throws Exception {
    return ModelSimulator.start(system, settings, "127.0.0.1", 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private record Answer(int status, HttpResponse<String> raw) {
    JsonNode json() throws Exception {
      return JSON.readTree(raw.body());
    }

    String content() throws Exception {
      return json().path("choices").path(0).path("message").path("content").asText();
    }
  }

  private static CompletableFuture<Answer> postAsync(ModelSimulator sim, String body) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/chat/completions"))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return CLIENT.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(r -> new Answer(r.statusCode(), r));
  }

  private static Answer post(ModelSimulator sim, String body) throws Exception {
    return postAsync(sim, body).get(30, TimeUnit.SECONDS);
  }

  private static Answer get(ModelSimulator sim, String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sim.port() + path)).GET().build();
    HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r);
  }

  private static String chat(String user, long seed, Integer maxTokens) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", "sim-small");
    var messages = body.putArray("messages");
    messages.addObject().put("role", "system").put("content", "You are a concise support assistant.");
    messages.addObject().put("role", "user").put("content", user);
    body.put("temperature", 0.0);
    body.put("seed", seed);
    if (maxTokens != null) {
      body.put("max_tokens", maxTokens);
    }
    return body.toString();
  }

  private static int words(String text) {
    String t = text.trim();
    return t.isEmpty() ? 0 : t.split("\\s+").length;
  }

  private static String structured(String user, String schema, long seed, boolean answeredBefore) {
    ObjectNode body = (ObjectNode) readTree(chat(user, seed, null));
    if (answeredBefore) {
      var messages = (com.fasterxml.jackson.databind.node.ArrayNode) body.get("messages");
      messages.insert(1, JSON.createObjectNode().put("role", "assistant").put("content", "{}"));
    }
    ObjectNode format = body.putObject("response_format").put("type", "json_schema");
    format.putObject("json_schema").put("name", "x").put("strict", true).set("schema", readTree(schema));
    return body.toString();
  }

  private static JsonNode readTree(String s) {
    try {
      return JSON.readTree(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final String PRODUCT = """
      {"type": "object", "required": ["name", "price", "tags", "kind"], "$defs": {"Tag": {"type": "string", "minLength": 3}},
       "properties": {"name": {"type": "string"}, "price": {"type": "integer", "minimum": 5, "maximum": 9},
         "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "minItems": 2, "maxItems": 3},
         "kind": {"enum": ["a", "b"]}, "score": {"type": "number", "minimum": 0, "maximum": 1}}}""";

  @Test
  void aSystemMessageSeenBeforeIsServedFromThePromptCache() throws Exception {
    ModelSimulator sim = start(SimulatorSettings.DEFAULT);
    JsonNode first = post(sim, chat("First question", 1, null)).json().path("usage");
    JsonNode second = post(sim, chat("Second question", 2, null)).json().path("usage");
    assertTrue(first.path("prompt_tokens_details").isMissingNode(), "a first sight is not cached: " + first);
    assertEquals(words("You are a concise support assistant."), second.at("/prompt_tokens_details/cached_tokens").asInt(),
        "the repeated system message is: " + second);
    assertTrue(second.get("prompt_tokens").asInt() > second.at("/prompt_tokens_details/cached_tokens").asInt());
  }

  @Test
  void aJsonSchemaRequestGetsJsonThatMeetsTheSchema() throws Exception {
    var schema = io.skein.worker.step.JsonSchemas.compile(readTree(PRODUCT));
    for (int seed = 0; seed < 30; seed++) {
      JsonNode value = JSON.readTree(post(plain, structured("Invent a product", PRODUCT, seed, false)).content());
      assertEquals(java.util.List.of(), io.skein.worker.step.JsonSchemas.validate(schema, value), value.toString());
    }
  }

  @Test
  void badJsonRateBreaksThatShareOfFirstAnswersOnly() throws Exception {
    ModelSimulator sim = start(SimulatorSettings.DEFAULT.withAnswers(new SimulatorSettings.Answers(0.5, 0, false)));
    var schema = io.skein.worker.step.JsonSchemas.compile(readTree(PRODUCT));
    int broken = 0;
    for (int seed = 0; seed < 100; seed++) {
      String text = post(sim, structured("Invent a product", PRODUCT, seed, false)).content();
      boolean ok;
      try {
        ok = io.skein.worker.step.JsonSchemas.validate(schema, JSON.readTree(text)).isEmpty();
      } catch (Exception notJson) {
        ok = false;
      }
      broken += ok ? 0 : 1;
      String retried = post(sim, structured("Invent a product", PRODUCT, seed, true)).content();
      assertEquals(java.util.List.of(), io.skein.worker.step.JsonSchemas.validate(schema, JSON.readTree(retried)),
          "a correction turn is answered well");
    }
    assertTrue(broken > 30 && broken < 70, broken + " of 100 first answers broken");
    sim.stop();
  }

  @Test
  void codePromptsGetFencedCodeAndReasoningGetsAThinkBlock() throws Exception {
    ModelSimulator sim = start(SimulatorSettings.DEFAULT.withAnswers(new SimulatorSettings.Answers(0, 1.0, true)));
    String sql = post(plain, chat("Write a query.\n\nAnswer with the sql code in one fenced code block (```sql).", 3, null)).content();
    assertTrue(sql.contains("```sql\nSELECT "), sql);
    String broken = post(sim, chat("Write it. (```python)", 3, null)).content();
    assertTrue(broken.startsWith("<think>") && broken.contains("</think>"), broken);
    assertTrue(broken.contains("```python\n") && broken.contains("def total(items)\n"), "bad-code-rate 1: code that does not parse: " + broken);
    String plainText = post(sim, chat("Hello there", 3, null)).content();
    assertTrue(plainText.startsWith("<think>The request is: Hello there"), plainText);
    sim.stop();
  }

  @Test
  void streamsChoicesJsonObjectsAndRefusesWhatOpenAiRefuses() throws Exception {
    ObjectNode body = (ObjectNode) JSON.readTree(chat("Tell me about tea", 5, null));
    String whole = post(plain, body.toString()).content();

    body.put("stream", true).putObject("stream_options").put("include_usage", true);
    Answer streamed = post(plain, body.toString());
    assertEquals(200, streamed.status());
    assertTrue(streamed.raw().headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    StringBuilder content = new StringBuilder();
    List<String> events = streamed.raw().body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    assertEquals("[DONE]", events.get(events.size() - 1));
    String finish = null;
    JsonNode usage = null;
    for (String e : events.subList(0, events.size() - 1)) {
      JsonNode chunk = JSON.readTree(e);
      assertEquals("chat.completion.chunk", chunk.get("object").asText());
      for (JsonNode c : chunk.get("choices")) {
        content.append(c.at("/delta/content").asText(""));
        finish = c.get("finish_reason").isNull() ? finish : c.get("finish_reason").asText();
      }
      usage = chunk.has("usage") ? chunk.get("usage") : usage;
    }
    assertEquals(whole, content.toString(), "the deltas add up to the answer");
    assertEquals("stop", finish);
    assertTrue(usage != null && usage.get("completion_tokens").asInt() > 0);

    ObjectNode three = (ObjectNode) JSON.readTree(chat("Tell me about tea", 5, null));
    three.put("n", 3);
    JsonNode choices = post(plain, three.toString()).json().get("choices");
    assertEquals(3, choices.size());
    assertEquals(2, choices.get(2).get("index").asInt());
    assertTrue(new java.util.HashSet<>(List.of(choices.get(0).at("/message/content").asText(), choices.get(1).at("/message/content").asText(),
        choices.get(2).at("/message/content").asText())).size() == 3, "three different samples");

    ObjectNode json = (ObjectNode) JSON.readTree(chat("Tell me about tea", 5, null));
    json.putObject("response_format").put("type", "json_object");
    assertTrue(JSON.readTree(post(plain, json.toString()).content()).isObject(), "json_object mode answers a JSON object");

    Answer absurd = post(plain, chat("Tell me about tea", 5, 1_000_000_000));
    assertEquals(400, absurd.status());
    assertTrue(absurd.json().at("/error/message").asText().contains("max_tokens"), absurd.raw().body());
    ObjectNode many = (ObjectNode) JSON.readTree(chat("x", 5, null));
    many.put("n", 1000);
    assertEquals(400, post(plain, many.toString()).status());
  }

  @Test
  void offeredToolsAreCalledWithArgumentsThatFitThenTheAnswerUsesTheirResults() throws Exception {
    String tools = """
        [{"type": "function", "function": {"name": "add", "parameters": {"type": "object", "required": ["a", "b"],
          "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}},
         {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "required": ["key"],
          "properties": {"key": {"type": "string"}}}}}]""";
    String ask = """
        {"model": "sim-small", "seed": %d, "tools": %s, "messages": [{"role": "user", "content": "What is 2 + 3?"}]}""";
    java.util.Set<String> chosen = new java.util.HashSet<>();
    for (int seed = 0; seed < 8; seed++) {
      Answer calls = post(plain, ask.formatted(seed, tools));
      assertEquals(200, calls.status(), calls.raw().body());
      JsonNode choice = calls.json().at("/choices/0");
      assertEquals("tool_calls", choice.get("finish_reason").asText());
      assertTrue(choice.at("/message/content").isNull(), choice.toString());
      for (JsonNode call : choice.at("/message/tool_calls")) {
        String name = call.at("/function/name").asText();
        chosen.add(name);
        JsonNode args = JSON.readTree(call.at("/function/arguments").asText());
        assertTrue(name.equals("add") ? args.get("a").isNumber() && args.get("b").isNumber() : args.get("key").isTextual(), call.toString());
      }
      assertEquals(calls.raw().body(), post(plain, ask.formatted(seed, tools)).raw().body().replaceAll("\"created\":\\d+",
          "\"created\":" + calls.json().get("created").asLong()), "the same request, the same tool calls");
    }
    assertEquals(java.util.Set.of("add", "lookup"), chosen, "a choice among the offered tools");

    String answered = """
        {"model": "sim-small", "tools": %s, "messages": [{"role": "user", "content": "What is 2 + 3?"},
          {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "add", "arguments": "{\\"a\\": 2, \\"b\\": 3}"}}]},
          {"role": "tool", "tool_call_id": "c1", "content": "2 + 3 = 5"}]}""".formatted(tools);
    Answer done = post(plain, answered);
    assertEquals(200, done.status(), done.raw().body());
    assertEquals("stop", done.json().at("/choices/0/finish_reason").asText(), "one round of tools by default, then an answer");
    assertTrue(done.content().contains("Tools said: 2 + 3 = 5."), done.content());

    Answer orphan = post(plain, answered.replace("\"tool_call_id\": \"c1\"", "\"tool_call_id\": \"c9\""));
    assertEquals(400, orphan.status(), "a tool message must answer a tool call, as OpenAI says: " + orphan.raw().body());
    assertTrue(orphan.json().at("/error/message").asText().contains("must be a response to a preceding message with 'tool_calls'"));
  }

  @Test
  void imagesComeAsContentPartsAndWhatIsNoImageIsRefused() throws Exception {
    String png = "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
    String body = """
        {"model": "sim-large", "max_tokens": 30, "messages": [{"role": "user", "content": [
          {"type": "text", "text": "What is in these?"},
          {"type": "image_url", "image_url": {"url": "https://img.example.com/a.png"}},
          {"type": "image_url", "image_url": {"url": "%s"}}]}]}
        """.formatted(png);
    Answer seen = post(plain, body);
    assertEquals(200, seen.status(), seen.raw().body());
    assertTrue(seen.content().startsWith("Regarding is in these: Seen 2 images."), seen.content());
    assertTrue(seen.json().at("/usage/prompt_tokens").asInt() >= 2 * 85, "each image counts in the prompt's tokens");

    Answer bad = post(plain, body.replace("https://img.example.com/a.png", "file:///etc/passwd"));
    assertEquals(400, bad.status());
    assertEquals("messages[0].content[1].image_url.url: not an http(s) URL or a base64 data:image URI",
        bad.json().at("/error/message").asText());
  }

  @Test
  void answersInTheOpenAiChatCompletionShape() throws Exception {
    long before = System.currentTimeMillis() / 1000;
    Answer answer = post(plain, chat("How do I reset my password?", 1, null));
    assertEquals(200, answer.status());
    assertTrue(answer.raw().headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    JsonNode json = answer.json();
    assertTrue(json.path("id").asText().startsWith("chatcmpl-"), json.toString());
    assertEquals("chat.completion", json.path("object").asText());
    assertEquals("sim-small", json.path("model").asText());
    long created = json.path("created").asLong();
    assertTrue(created >= before && created <= System.currentTimeMillis() / 1000 + 1, "created in epoch seconds: " + created);
    JsonNode choice = json.path("choices").path(0);
    assertEquals(0, choice.path("index").asInt(-1));
    assertEquals("assistant", choice.path("message").path("role").asText());
    assertEquals("stop", choice.path("finish_reason").asText());
    int n = words(choice.path("message").path("content").asText());
    assertTrue(n >= 20 && n <= 80, "20 to 80 words by default: " + n);
  }

  @Test
  void sameBodyGivesSameTextEvenInAnotherInstance() throws Exception {
    String body = chat("Summarise the refund policy for annual plans", 17, null);
    String first = post(plain, body).content();
    assertEquals(first, post(plain, body).content());
    ModelSimulator other = start(SimulatorSettings.DEFAULT);
    try {
      assertEquals(first, post(other, body).content());
    } finally {
      other.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void differentSeedFieldGivesDifferentText() throws Exception {
    String a = post(plain, chat("Summarise the refund policy for annual plans", 1, null)).content();
    String b = post(plain, chat("Summarise the refund policy for annual plans", 2, null)).content();
    assertNotEquals(a, b);
  }

  @Test
  void textEchoesTheLastUserMessageAndNeverLooksLikeATemplate() throws Exception {
    String content = post(plain, chat("Tell me about invoices and shipping {{ name }} {% if x %}", 3, null)).content();
    assertTrue(content.startsWith("Regarding"), content);
    String lower = content.toLowerCase(Locale.ROOT);
    assertTrue(Arrays.stream(new String[] {"invoices", "shipping", "name", "if", "x"}).anyMatch(lower::contains), content);
    for (int seed = 0; seed < 50; seed++) {
      String text = post(plain, chat("{{ user.name }} asks: {% raw %} {{{{ what now? }}", seed, null)).content();
      assertFalse(text.contains("{{") || text.contains("{%"), text);
    }
  }

  @Test
  void maxTokensCutsTheAnswerAndSaysLength() throws Exception {
    for (int seed = 0; seed < 20; seed++) {
      JsonNode json = post(plain, chat("Explain the difference between the two plans", seed, 5)).json();
      String content = json.path("choices").path(0).path("message").path("content").asText();
      assertTrue(words(content) <= 5, "at most max_tokens words: " + content);
      assertEquals("length", json.path("choices").path(0).path("finish_reason").asText(), content);
      assertEquals(words(content), json.path("usage").path("completion_tokens").asInt());
    }
    JsonNode roomy = post(plain, chat("Explain the difference between the two plans", 1, 500)).json();
    assertEquals("stop", roomy.path("choices").path(0).path("finish_reason").asText());
  }

  @Test
  void usageCountsPromptAndCompletionWords() throws Exception {
    String user = "Please list three ways to lower the monthly cost";
    JsonNode json = post(plain, chat(user, 9, null)).json();
    String content = json.path("choices").path(0).path("message").path("content").asText();
    JsonNode usage = json.path("usage");
    int prompt = words("You are a concise support assistant.") + words(user);
    assertEquals(prompt, usage.path("prompt_tokens").asInt());
    assertEquals(words(content), usage.path("completion_tokens").asInt());
    assertEquals(usage.path("prompt_tokens").asInt() + usage.path("completion_tokens").asInt(), usage.path("total_tokens").asInt());
  }

  @Test
  void modelsListsTheSimulatedModels() throws Exception {
    Answer answer = get(plain, "/v1/models");
    assertEquals(200, answer.status());
    JsonNode json = answer.json();
    assertEquals("list", json.path("object").asText());
    Set<String> ids = new TreeSet<>();
    json.path("data").forEach(m -> {
      ids.add(m.path("id").asText());
      assertEquals("model", m.path("object").asText());
      assertEquals("skein-simulator", m.path("owned_by").asText());
    });
    assertEquals(Set.of("sim-small", "sim-large"), ids);
  }

  @Test
  void malformedBodyOrMissingMessagesIsAnInvalidRequest() throws Exception {
    for (String body : List.of("{not json", "{\"model\":\"sim-small\"}", "")) {
      Answer answer = post(plain, body);
      assertEquals(400, answer.status(), body);
      JsonNode error = answer.json().path("error");
      assertEquals("invalid_request_error", error.path("type").asText(), body);
      assertFalse(error.path("message").asText().isBlank(), body);
    }
  }

  @Test
  void unknownPathIsA404WithAJsonError() throws Exception {
    Answer answer = get(plain, "/v1/nothing-here");
    assertEquals(404, answer.status());
    assertFalse(answer.json().path("error").path("message").asText().isBlank());
  }

  @Test
  void statsCountRequestsByStatusAndInFlight() throws Exception {
    ModelSimulator sim = start(new SimulatorSettings(300, 0.0, 0.0, 0.0, 0.0, 1, 1));
    try {
      for (int i = 0; i < 3; i++) {
        assertEquals(200, post(sim, chat("question " + i, i, null)).status());
      }
      assertEquals(400, post(sim, "{oops").status());

      CompletableFuture<Answer> pending = postAsync(sim, chat("a slow one", 99, null));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      JsonNode during;
      do {
        during = get(sim, "/stats").json();
      } while (during.path("in_flight").asLong() == 0 && !pending.isDone() && System.nanoTime() < deadline);
      assertEquals(1, during.path("in_flight").asLong(), "the slow request is counted while it waits: " + during);
      assertEquals(5, during.path("requests").asLong(), during.toString());
      assertEquals(200, pending.get(10, TimeUnit.SECONDS).status());

      JsonNode after = get(sim, "/stats").json();
      assertEquals(5, after.path("requests").asLong());
      assertEquals(4, after.path("by_status").path("200").asLong(), after.toString());
      assertEquals(1, after.path("by_status").path("400").asLong(), after.toString());
      assertEquals(0, after.path("in_flight").asLong());

      ModelSimulator.Stats stats = sim.stats();
      assertEquals(5, stats.requests());
      assertEquals(4L, stats.byStatus().get("200"));
      assertEquals(1L, stats.byStatus().get("400"));
      assertEquals(0, stats.inFlight());
    } finally {
      sim.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void rateLimitRateOneAnswersEveryRequest429WithRetryAfter() throws Exception {
    ModelSimulator sim = start(new SimulatorSettings(0, 0.0, 0.0, 1.0, 0.0, 1, 7));
    try {
      for (int i = 0; i < 10; i++) {
        Answer answer = post(sim, chat("hello " + i, i, null));
        assertEquals(429, answer.status());
        assertEquals("7", answer.raw().headers().firstValue("Retry-After").orElse(""));
        assertFalse(answer.json().path("error").path("message").asText().isBlank());
      }
      assertEquals(10L, sim.stats().byStatus().get("429"));
    } finally {
      sim.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Indices of the bodies answered 500, the bodies sent concurrently in the given order. */
  private static Set<Integer> failing(ModelSimulator sim, List<String> bodies, List<Integer> order) throws Exception {
    List<CompletableFuture<Answer>> answers = new ArrayList<>();
    for (int i = 0; i < bodies.size(); i++) {
      answers.add(null);
    }
    for (int i : order) {
      answers.set(i, postAsync(sim, bodies.get(i)));
    }
    Set<Integer> failing = new TreeSet<>();
    for (int i = 0; i < bodies.size(); i++) {
      int status = answers.get(i).get(30, TimeUnit.SECONDS).status();
      assertTrue(status == 200 || status == 500, "only 200 or 500: " + status);
      if (status == 500) {
        failing.add(i);
      }
    }
    return failing;
  }

  @Test
  void brokenAnswersAre200sNoClientCanUse() throws Exception {
    ModelSimulator sim = start(SimulatorSettings.DEFAULT.withBrokenRate(1.0));
    try {
      Set<String> kinds = new java.util.TreeSet<>();
      for (int i = 0; i < 30; i++) {
        Answer a = post(sim, chat("broken " + i, i, null));
        assertEquals(200, a.status());
        String body = a.raw().body();
        if (body.startsWith("<html>")) {
          kinds.add("html");
          continue;
        }
        JsonNode json;
        try {
          json = JSON.readTree(body);
        } catch (Exception cut) {
          kinds.add("cut off");
          continue;
        }
        assertEquals(0, json.path("choices").size(), "a JSON answer that parses has no choices: " + body);
        kinds.add("no choices");
      }
      assertEquals(Set.of("cut off", "html", "no choices"), kinds);
    } finally {
      sim.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void faultsDependOnSeedAndRequestNotOnArrivalOrder() throws Exception {
    SimulatorSettings settings = new SimulatorSettings(0, 0.0, 0.3, 0.0, 0.0, 42, 1);
    List<String> bodies = new ArrayList<>();
    List<Integer> forward = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      bodies.add(chat("record number " + i, i, null));
      forward.add(i);
    }
    List<Integer> backward = new ArrayList<>(forward);
    java.util.Collections.reverse(backward);

    ModelSimulator a = start(settings);
    ModelSimulator b = start(settings);
    try {
      Set<Integer> failingA = failing(a, bodies, forward);
      Set<Integer> failingB = failing(b, bodies, backward);
      assertEquals(failingA, failingB, "the same requests fail in a fresh instance, whatever the order");
      assertTrue(failingA.size() >= 30 && failingA.size() <= 90, "about 30% fail: " + failingA.size() + " of 200");

      List<String> retries = failingA.stream().map(bodies::get).toList();
      Set<Integer> failingAgain = failing(a, retries, new ArrayList<>(java.util.stream.IntStream.range(0, retries.size()).boxed().toList()));
      assertTrue(failingAgain.size() < retries.size(), "a retry draws again: " + failingAgain.size() + " of " + retries.size());
      assertFalse(failingAgain.isEmpty(), "and may fail again, with the same odds");
    } finally {
      a.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      b.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void latencyDelaysAnswersAndFaultsWithoutHoldingAThread() throws Exception {
    ModelSimulator sim = start(new SimulatorSettings(200, 0.0, 0.0, 0.0, 0.0, 1, 1));
    ModelSimulator limited = start(new SimulatorSettings(200, 0.0, 0.0, 1.0, 0.0, 1, 1));
    try {
      long t0 = System.nanoTime();
      assertEquals(200, post(sim, chat("one at a time", 1, null)).status());
      long single = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(single >= 180, "one answer takes the latency: " + single + " ms");

      t0 = System.nanoTime();
      assertEquals(429, post(limited, chat("one at a time", 1, null)).status());
      long fault = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(fault >= 180, "a fault takes the latency too: " + fault + " ms");

      t0 = System.nanoTime();
      List<CompletableFuture<Answer>> answers = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        answers.add(postAsync(sim, chat("together " + i, i, null)));
      }
      for (CompletableFuture<Answer> answer : answers) {
        assertEquals(200, answer.get(30, TimeUnit.SECONDS).status());
      }
      long together = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      // Fifty sleeping threads would take 50 x 200 ms, or ~1,400 ms on the default dispatcher's 8.
      assertTrue(together >= 180 && together < 1000, "50 concurrent answers overlap their latency: " + together + " ms");
    } finally {
      sim.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
      limited.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
  @Test
  void aConcurrencyQuotaRefusesRequestsBeyondItWithA429() throws Exception {
    ModelSimulator quota = start(new SimulatorSettings(500, 0, 0, 0, 0, 1, 1, null, 2));
    try {
      List<CompletableFuture<Answer>> answers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        answers.add(postAsync(quota, chat("question " + i, i, 10)));
      }
      int ok = 0;
      int refused = 0;
      for (CompletableFuture<Answer> a : answers) {
        Answer answer = a.get(30, TimeUnit.SECONDS);
        if (answer.status() == 200) {
          ok++;
        } else {
          assertEquals(429, answer.status());
          assertEquals("200", answer.raw().headers().firstValue("retry-after-ms").orElse(""));
          refused++;
        }
      }
      assertEquals(6, ok + refused);
      assertTrue(ok >= 1 && ok <= 2, "at most 2 answered at once: " + ok);
      assertEquals(0, quota.stats().inFlight(), "a refused request does not stay in flight: " + quota.stats());
      assertEquals(refused, quota.stats().byStatus().get("429").intValue());
      assertEquals(200, post(quota, chat("alone", 9, 10)).status(), "a request within the quota is answered");
    } finally {
      quota.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static ModelSimulator start(SimulatorSettings settings, AtomicLong nanoClock) throws Exception {
    return ModelSimulator.start(system, settings, "127.0.0.1", 0, nanoClock::get).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String header(Answer answer, String name) {
    return answer.raw().headers().firstValue(name).orElse(null);
  }

  @Test
  void aRequestsPerMinuteLimitAdmitsAMinutesWorthAtOnceThenRefusesUntilTheBucketRefills() throws Exception {
    AtomicLong clock = new AtomicLong();
    ModelSimulator limited = start(SimulatorSettings.DEFAULT.withRateLimits(60, 0), clock);
    try {
      for (int i = 1; i <= 60; i++) {
        Answer ok = post(limited, chat("question " + i, i, 10));
        assertEquals(200, ok.status());
        assertEquals("60", header(ok, "x-ratelimit-limit-requests"));
        assertEquals(String.valueOf(60 - i), header(ok, "x-ratelimit-remaining-requests"), "counts down: request " + i);
        assertEquals(RateBuckets.goDuration(i * 1000L), header(ok, "x-ratelimit-reset-requests"));
        assertEquals(null, header(ok, "x-ratelimit-limit-tokens"), "no token limit, no token headers");
      }
      Answer refused = post(limited, chat("one too many", 61, 10));
      assertEquals(429, refused.status());
      assertEquals("1000", header(refused, "retry-after-ms"));
      assertEquals("1", header(refused, "Retry-After"));
      assertEquals("0", header(refused, "x-ratelimit-remaining-requests"));
      assertEquals("1m0s", header(refused, "x-ratelimit-reset-requests"));
      assertEquals("rate_limit_exceeded", refused.json().path("error").path("type").asText());
      assertTrue(refused.json().path("error").path("message").asText().startsWith("Rate limit reached for requests"),
          refused.raw().body());

      clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
      Answer later = post(limited, chat("one too many", 61, 10));
      assertEquals(200, later.status(), "after the time it was told, it gets in");
      assertEquals("0", header(later, "x-ratelimit-remaining-requests"));
      assertEquals(1L, limited.stats().rateLimitedBy().get("requests"));
      assertEquals(1, get(limited, "/stats").json().path("rate_limited_by").path("requests").asLong());
    } finally {
      limited.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aTokensPerMinuteLimitCountsThePromptAndMaxTokensAndRefusesWhatExceedsWhatIsLeft() throws Exception {
    AtomicLong clock = new AtomicLong();
    ModelSimulator limited = start(SimulatorSettings.DEFAULT.withRateLimits(0, 1000), clock);
    try {
      Answer first = post(limited, chat("hello there", 1, 400));
      assertEquals(200, first.status());
      long counted = first.json().path("usage").path("prompt_tokens").asLong() + 400;
      assertEquals(408, counted, "the system prompt's 6 words, the user's 2, and max_tokens");
      assertEquals("1000", header(first, "x-ratelimit-limit-tokens"));
      assertEquals("592", header(first, "x-ratelimit-remaining-tokens"));
      assertEquals("24.48s", header(first, "x-ratelimit-reset-tokens"), "408 tokens at 1000 a minute");
      assertEquals(null, header(first, "x-ratelimit-limit-requests"), "no request limit, no request headers");
      assertEquals("184", header(post(limited, chat("hello there", 2, 400)), "x-ratelimit-remaining-tokens"));

      Answer refused = post(limited, chat("hello there", 3, 400));
      assertEquals(429, refused.status());
      assertEquals("13440", header(refused, "retry-after-ms"), "224 tokens short at 1000 a minute");
      assertEquals("14", header(refused, "Retry-After"));
      assertEquals("184", header(refused, "x-ratelimit-remaining-tokens"), "a refused request takes nothing");
      assertTrue(refused.json().path("error").path("message").asText().startsWith("Rate limit reached for tokens"),
          refused.raw().body());

      Answer small = post(limited, chat("hello there", 4, null));
      assertEquals(200, small.status(), "without max_tokens a request counts 16 for its answer");
      assertEquals("160", header(small, "x-ratelimit-remaining-tokens"));

      Answer tooLarge = post(limited, chat("hello there", 5, 2000));
      assertEquals(429, tooLarge.status());
      assertEquals(null, header(tooLarge, "retry-after-ms"), "no wait makes a request larger than the limit fit");
      assertTrue(tooLarge.json().path("error").path("message").asText().startsWith("Request too large"), tooLarge.raw().body());
      assertEquals(2L, limited.stats().rateLimitedBy().get("tokens"));
    } finally {
      limited.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aRequestRefusedForConcurrencyTakesNothingFromThePerMinuteLimits() throws Exception {
    AtomicLong clock = new AtomicLong();
    ModelSimulator limited = start(new SimulatorSettings(500, 0, 0, 0, 0, 1, 1, null, 2).withRateLimits(60, 0), clock);
    try {
      List<CompletableFuture<Answer>> answers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        answers.add(postAsync(limited, chat("question " + i, i, 10)));
      }
      int ok = 0;
      for (CompletableFuture<Answer> a : answers) {
        Answer answer = a.get(30, TimeUnit.SECONDS);
        ok += answer.status() == 200 ? 1 : 0;
        assertTrue(header(answer, "x-ratelimit-remaining-requests") != null, "every answer says where the limit stands");
      }
      assertEquals(6 - ok, limited.stats().rateLimitedBy().get("concurrency").intValue());
      assertEquals(String.valueOf(60 - ok - 1), header(post(limited, chat("alone", 9, 10)), "x-ratelimit-remaining-requests"),
          "only the " + ok + " answered requests took from the bucket");
    } finally {
      limited.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
