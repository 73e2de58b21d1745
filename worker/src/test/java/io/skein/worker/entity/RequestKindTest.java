package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.worker.gateway.Provider;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code kind: request}: a record's whole request body, sent as given, and its answer as a chat.completion. */
class RequestKindTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SPEC = """
      name: r
      models: {batch: gpt-4o-mini}
      steps:
        - {name: response, kind: request, model: batch}
      processors:
        - drop: [body]
      """;
  private static final String LINE = """
      {"custom_id": "q1", "body": {"model": "gpt-4o-mini", "temperature": 0.3, "max_tokens": 40, "response_format": {"type": "json_object"},
       "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}}""";
  private static final Provider PROVIDER = new Provider("vllm", "http://vllm/v1", null, "served-name", 1, Duration.ofSeconds(1));

  @Test
  void theBodyIsSentAsGivenButForItsModel() throws Exception {
    RecordRun run = new RecordRun(SPEC, LINE, 7);
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> "Hello!"));
    StepPlanner.PlannedCall call = run.sent.get(0);
    JsonNode sent = JSON.readTree(CallRequests.build("j/7", 7, 0, call, PROVIDER, true).body());
    JsonNode given = JSON.readTree(LINE).get("body");
    assertEquals("served-name", sent.get("model").asText(), "the model is the provider's");
    for (String key : new String[] {"temperature", "max_tokens", "response_format", "messages"}) {
      assertEquals(given.get(key), sent.get(key), key + " is sent as given");
    }
    assertTrue(sent.path("seed").isMissingNode(), "nothing is added: " + sent);
    assertEquals(2, call.messages().size());
    assertEquals("Hi", call.messages().get(1).content(), "the journal keeps the text of each message");
  }

  @Test
  void theValueIsAChatCompletionAndTheRowLeavesTheBodyOut() {
    RecordRun run = new RecordRun(SPEC, LINE, 7);
    run.run(c -> "Hello!");
    JsonNode row = run.row();
    assertEquals("q1", row.get("custom_id").asText());
    assertTrue(row.path("body").isMissingNode(), "the processor drops the request: " + row);
    JsonNode completion = row.get("response");
    assertEquals("chat.completion", completion.get("object").asText());
    assertEquals("gpt-4o-mini", completion.get("model").asText());
    assertEquals("Hello!", completion.at("/choices/0/message/content").asText());
    assertEquals("assistant", completion.at("/choices/0/message/role").asText());
    assertEquals("stop", completion.at("/choices/0/finish_reason").asText());
    assertEquals(2, completion.at("/usage/total_tokens").asLong());
  }

  @Test
  void theSameLineAtAnotherIndexIsAnotherCacheEntry() {
    RecordRun a = new RecordRun(SPEC, LINE, 7);
    a.run(c -> "x");
    RecordRun b = new RecordRun(SPEC, LINE, 8);
    b.run(c -> "x");
    var first = CallRequests.build("j/7", 7, 0, a.sent.get(0), PROVIDER, true);
    assertEquals(first.cacheKey(), CallRequests.build("k/7", 7, 0, a.sent.get(0), PROVIDER, true).cacheKey(),
        "the same file submitted again finds its answers");
    assertNotEquals(first.cacheKey(), CallRequests.build("j/8", 8, 0, b.sent.get(0), PROVIDER, true).cacheKey());
  }

  @Test
  void eachTenantHasItsOwnCacheEntries() {
    RecordRun run = new RecordRun(SPEC, LINE, 7);
    run.run(c -> "x");
    var request = CallRequests.build("j/7", 7, 0, run.sent.get(0), PROVIDER, true);
    var a = CallRequests.owned(request, "team-a");
    var b = CallRequests.owned(request, "team-b");
    assertEquals("team-a", a.tenant());
    assertNotEquals(a.cacheKey(), b.cacheKey(), "no tenant is answered from another's requests");
    assertNotEquals(request.cacheKey(), a.cacheKey());
    assertEquals(a.cacheKey(), CallRequests.owned(request, "team-a").cacheKey(), "a tenant's own rerun finds its answers");
    assertEquals(request, CallRequests.owned(request, null), "no tenant: as built");
    assertEquals(request.body(), a.body());
  }

  @Test
  void aBodyWithoutMessagesFailsTheRecordSayingWhy() {
    RecordRun run = new RecordRun(SPEC, "{\"custom_id\": \"q2\", \"body\": {\"model\": \"gpt-4o-mini\"}}", 0);
    StepPlanner.Fail fail = assertInstanceOf(StepPlanner.Fail.class, run.run(c -> "never"));
    assertEquals("invalid_request", fail.errorType());
    assertTrue(fail.message().contains("messages"), fail.message());
    assertTrue(run.sent.isEmpty());
  }

  @Test
  void anEmbeddingsBodyGoesToTheEmbeddingsEndpointAndItsValueIsTheProvidersList() throws Exception {
    String spec = """
        name: e
        models: {embed: text-embedding-3-small}
        steps:
          - {name: vector, kind: request, model: embed, endpoint: embeddings}
        """;
    RecordRun run = new RecordRun(spec, "{\"body\": {\"model\": \"text-embedding-3-small\", \"input\": \"hello\", \"dimensions\": 2}}", 0);
    String answer = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.6,0.8]}],"
        + "\"model\":\"served-name\",\"usage\":{\"prompt_tokens\":1,\"total_tokens\":1}}";
    assertInstanceOf(StepPlanner.Finish.class, run.run(c -> answer));
    var request = CallRequests.build("j/0", 0, 0, run.sent.get(0), PROVIDER, true);
    assertEquals(io.skein.worker.gateway.ModelRequest.EMBEDDINGS, request.endpoint());
    assertEquals(2, JSON.readTree(request.body()).get("dimensions").asInt(), "sent as given");
    JsonNode value = run.row().get("vector");
    assertEquals(0.8, value.at("/data/0/embedding/1").asDouble());
    assertEquals("text-embedding-3-small", value.get("model").asText(), "named by the model the request asked for");
    RecordRun chat = new RecordRun(spec, "{\"body\": {\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}}", 1);
    StepPlanner.Fail fail = assertInstanceOf(StepPlanner.Fail.class, chat.run(c -> "never"));
    assertTrue(fail.message().contains("embeddings request body"), fail.message());
  }
}
