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
}
