package io.skein.worker.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The HTTP client against a real HTTP server that behaves like a provider refusing a key. */
class OpenAiHttpClientTest {

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void aProviderEchoingTheKeyInItsErrorDoesNotGetItIntoTheOutcome() throws Exception {
    String key = "sk-live-0123456789abcdef";
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/chat/completions", exchange -> {
      String sent = exchange.getRequestHeaders().getFirst("Authorization").substring("Bearer ".length());
      byte[] body = ("{\"error\": {\"message\": \"Incorrect API key provided: " + sent + ". Find your key at ...\","
          + " \"code\": \"invalid_api_key\"}}").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(401, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      OpenAiHttpClient client = new OpenAiHttpClient(testKit.system(), Map.of("TEST_PROVIDER_KEY", key)::get);
      Provider provider = new Provider("echo", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", "TEST_PROVIDER_KEY",
          "m", 4, Duration.ofSeconds(10));
      ModelOutcome outcome = client.complete(provider, "{\"model\": \"m\", \"messages\": []}")
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      ModelOutcome.Failed failed = assertInstanceOf(ModelOutcome.Failed.class, outcome);
      assertEquals(ModelOutcome.Errors.UNAUTHORIZED, failed.errorType());
      assertFalse(failed.message().contains(key), failed.message());
      assertTrue(failed.message().contains("Incorrect API key provided: [redacted]"), failed.message());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void theServersRateLimitHeadersComeWithItsAnswer() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/chat/completions", exchange -> {
      byte[] body = "{\"choices\": [{\"message\": {\"content\": \"hi\"}, \"finish_reason\": \"stop\"}]}".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("x-ratelimit-limit-requests", "600");
      exchange.getResponseHeaders().add("x-ratelimit-remaining-requests", "17");
      exchange.getResponseHeaders().add("x-ratelimit-reset-requests", "58.3s");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      OpenAiHttpClient client = new OpenAiHttpClient(testKit.system(), name -> null);
      Provider provider = new Provider("p", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", null, "m", 4, Duration.ofSeconds(10));
      ModelClient.Answered answered = client.send(provider, "{}").toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertInstanceOf(ModelOutcome.Ok.class, answered.outcome());
      assertEquals(new RateLimits(600, 17, 58_300, -1, -1, -1), answered.limits());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void retryAfterIsReadInSecondsAndAsADateFromTheRawHeader() throws Exception {
    String inFiveMinutes = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
        java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusMinutes(5));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/seconds/chat/completions", exchange -> answer(exchange, 429, "Retry-After", "7"));
    server.createContext("/date/chat/completions", exchange -> answer(exchange, 429, "Retry-After", inFiveMinutes));
    server.start();
    try {
      OpenAiHttpClient client = new OpenAiHttpClient(testKit.system(), name -> null);
      String base = "http://127.0.0.1:" + server.getAddress().getPort();
      ModelOutcome.Failed seconds = assertInstanceOf(ModelOutcome.Failed.class, client.complete(
          new Provider("p", base + "/seconds", null, "m", 4, Duration.ofSeconds(10)), "{}").toCompletableFuture().get(30, TimeUnit.SECONDS));
      assertEquals(7_000, seconds.retryAfterMillis());
      ModelOutcome.Failed date = assertInstanceOf(ModelOutcome.Failed.class, client.complete(
          new Provider("p", base + "/date", null, "m", 4, Duration.ofSeconds(10)), "{}").toCompletableFuture().get(30, TimeUnit.SECONDS));
      assertTrue(date.retryAfterMillis() > 200_000 && date.retryAfterMillis() <= 300_000, "retry after " + date.retryAfterMillis());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void anAnswerSentInChunksIsReadWhole() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/chat/completions", exchange -> {
      exchange.sendResponseHeaders(200, 0);  // no length: chunked, as a proxy streaming the answer sends it
      for (String part : new String[] {"{\"choices\": [{\"message\": ", "{\"content\": \"in three \"}", ", \"finish_reason\": \"stop\"}]}"}) {
        exchange.getResponseBody().write(part.getBytes(StandardCharsets.UTF_8));
        exchange.getResponseBody().flush();
      }
      exchange.close();
    });
    server.start();
    try {
      OpenAiHttpClient client = new OpenAiHttpClient(testKit.system(), name -> null);
      Provider provider = new Provider("p", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", null, "m", 4, Duration.ofSeconds(10));
      ModelOutcome.Ok ok = assertInstanceOf(ModelOutcome.Ok.class,
          client.complete(provider, "{}").toCompletableFuture().get(30, TimeUnit.SECONDS));
      assertEquals("in three ", ok.text());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void usageWithPromptCacheTokensIsRead() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/chat/completions", exchange -> {
      byte[] body = ("{\"choices\": [{\"message\": {\"content\": \"hi\"}, \"finish_reason\": \"stop\"}], \"usage\": {\"prompt_tokens\": 2006,"
          + " \"completion_tokens\": 300, \"prompt_tokens_details\": {\"cached_tokens\": 1920}}}").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      OpenAiHttpClient client = new OpenAiHttpClient(testKit.system(), name -> null);
      Provider provider = new Provider("p", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", null, "m", 4, Duration.ofSeconds(10));
      ModelOutcome.Ok ok = assertInstanceOf(ModelOutcome.Ok.class,
          client.complete(provider, "{}").toCompletableFuture().get(30, TimeUnit.SECONDS));
      assertEquals(new io.skein.protocol.Usage(2006, 300, 1920), ok.usage());
    } finally {
      server.stop(0);
    }
  }

  private static void answer(com.sun.net.httpserver.HttpExchange exchange, int status, String header, String value) throws java.io.IOException {
    byte[] body = "{\"error\": {\"message\": \"slow down\"}}".getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add(header, value);
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  @Test
  void thePoolTakesACallOnEachConnectionAtLeast() {
    assertEquals(4096, OpenAiHttpClient.openRequests(4096, 1024));
    assertEquals(8192, OpenAiHttpClient.openRequests(4096, 5000));
    assertEquals(8, OpenAiHttpClient.openRequests(5, 2), "a power of two, as Pekko HTTP wants");
  }

  @Test
  void aRequestTheFullPoolRefusesIsNotSentRatherThanFailed() throws Exception {
    var config = com.typesafe.config.ConfigFactory.parseString("""
        skein.http-client {max-connections = 1, max-open-requests = 2}
        """).withFallback(com.typesafe.config.ConfigFactory.load());
    ActorTestKit small = ActorTestKit.create("small-pool", config);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext("/v1/chat/completions", exchange -> {
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      byte[] body = "{\"choices\": [{\"message\": {\"content\": \"hi\"}}]}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      OpenAiHttpClient client = new OpenAiHttpClient(small.system(), name -> null);
      Provider provider = new Provider("p", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", null, "m", 1, Duration.ofSeconds(30));
      java.util.List<java.util.concurrent.CompletableFuture<ModelOutcome>> calls = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(client.complete(provider, "{}").toCompletableFuture());
      }
      ModelOutcome refused = java.util.concurrent.CompletableFuture.anyOf(calls.toArray(java.util.concurrent.CompletableFuture[]::new))
          .thenApply(ModelOutcome.class::cast).get(30, TimeUnit.SECONDS);
      ModelOutcome.NotSent notSent = assertInstanceOf(ModelOutcome.NotSent.class, refused, "the pool holds 2; the others are refused at once");
      assertTrue(notSent.reason().contains("skein.http-client.max-open-requests"), notSent.reason());
      release.countDown();
      for (var call : calls) {
        ModelOutcome outcome = call.get(30, TimeUnit.SECONDS);
        assertTrue(outcome instanceof ModelOutcome.Ok || outcome instanceof ModelOutcome.NotSent, outcome.toString());
      }
    } finally {
      release.countDown();
      server.stop(0);
      small.shutdownTestKit();
    }
  }
}
