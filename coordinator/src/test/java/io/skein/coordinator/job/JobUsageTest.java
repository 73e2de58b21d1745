package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.worker.gateway.Prices;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A job's calls per step and per model, from its annotated rows. */
class JobUsageTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode row(String calls) throws Exception {
    return JSON.readTree("{\"calls\": [" + calls + "]}");
  }

  @Test
  void callsCachedAnswersFailedAttemptsTokensAndCostAreTalliedPerStepAndModel() throws Exception {
    Prices prices = new Prices(Map.of("big", new Prices.Price(2.0, 10.0)));
    JobUsage usage = new JobUsage(prices, Map.of("q", "small", "a", "big"));
    usage.add(row("""
        {"step": "q", "model": "small", "usage": {"prompt_tokens": 10, "completion_tokens": 20},
         "failures": [{"error_type": "rate_limited"}, {"error_type": "rate_limited"}]},
        {"step": "a", "model": "big", "usage": {"prompt_tokens": 100, "completion_tokens": 50}}"""));
    usage.add(row("""
        {"step": "q", "model": "small", "cached": true, "usage": {"prompt_tokens": 10, "completion_tokens": 20}},
        {"step": "a", "failures": [{"error_type": "timeout"}, {"error_type": "server_error"}]}"""));
    JsonNode out = usage.json();
    assertEquals(2, out.get("records").asInt());

    JsonNode q = out.get("steps").get(0);
    assertEquals("q", q.get("step").asText(), "steps in the order their calls come");
    assertEquals(1, q.get("calls").asInt());
    assertEquals(1, q.get("cached").asInt(), "an answer from the cache is no call and no tokens");
    assertEquals(10, q.get("tokens_in").asInt());
    assertEquals(20, q.get("tokens_out").asInt());
    assertEquals(2, q.at("/failed_attempts/rate_limited").asInt());
    assertEquals(0.0, q.get("cost_usd").asDouble(), "no price for small");

    JsonNode a = out.get("steps").get(1);
    assertEquals(1, a.get("calls").asInt());
    assertEquals(1, a.at("/failed_attempts/timeout").asInt());
    assertEquals(1, a.at("/failed_attempts/server_error").asInt());
    // 100 in at $2/M + 50 out at $10/M = $0.0002 + $0.0005
    assertEquals("0.000700", a.get("cost_usd").asText());

    JsonNode big = out.get("models").get(0);
    assertEquals("big", big.get("model").asText());
    assertEquals(2, big.at("/failed_attempts").size(), "a failure with no answer is the step's model's, from the spec");
    JsonNode small = out.get("models").get(1);
    assertEquals("small", small.get("model").asText());
    assertEquals(2, small.at("/failed_attempts/rate_limited").asInt(), "small: two 429s");
    assertEquals(1, small.get("cached").asInt());
  }
}
