package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.spec.ModelSpec;
import io.skein.worker.gateway.ModelRequest;
import io.skein.worker.gateway.Provider;
import io.skein.worker.gateway.TokenEstimates;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds the exact request a call sends. Its {@code seed} derives from the spec's seed and the
 * call's identity (record index, step, sample, turn), so a rerun asks the same questions; its
 * fingerprint hashes the resolved provider and model, the call identity and the canonical body
 * (never headers), so it names this request and nothing else. Its cache key hashes only the
 * endpoint, the provider's model and the body: the same question asked by another job (the same
 * spec seed, record index and step) finds the same answer.
 */
public final class CallRequests {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Tokens a call is assumed to generate when its model sets no max_tokens (budgets settle on actual usage). */
  static final long DEFAULT_COMPLETION_ESTIMATE = 512;
  /** An image in the token estimate, as characters (4 a token): about what a 1024x1024 image costs at high detail. */
  static final long IMAGE_CHARS = 4 * 800;

  private CallRequests() {}

  public static ModelRequest build(String recordKey, long index, long specSeed, StepPlanner.PlannedCall call, Provider provider,
      boolean cache) {
    return build(recordKey, index, specSeed, call, provider, cache, List.of());
  }

  /** {@code tools}: the definitions of the tools the call offers (OpenAI's {@code tools} entries), in order. */
  public static ModelRequest build(String recordKey, long index, long specSeed, StepPlanner.PlannedCall call, Provider provider,
      boolean cache, List<ObjectNode> tools) {
    if (call.body() != null) {
      return verbatim(recordKey, index, call, provider, cache);
    }
    return build(recordKey, index, specSeed, call.id(), call.attempt(), call.model(), provider, call.messages(), call.schema(), cache,
        tools);
  }

  /**
   * The request of a call whose record gave its whole body ({@code kind: request}, an OpenAI Batch
   * line): sent as given, but for {@code model}, which becomes the provider's. Nothing is added (no
   * seed), so its cache key hashes the record's index too: two lines asking the same question are two
   * calls, and the same file submitted again finds its answers.
   */
  static ModelRequest verbatim(String recordKey, long index, StepPlanner.PlannedCall call, Provider provider, boolean cache) {
    ObjectNode body = call.body().deepCopy();
    body.put("model", provider.model());
    String text = body.toString();
    // OpenAI's two request bodies: chat completions have `messages`, embeddings an `input` and nothing to generate.
    boolean embeddings = !body.has("messages") && body.has("input");
    long promptTokens = TokenEstimates.count(provider.model(), (embeddings ? body.path("input") : body.path("messages")).toString());
    JsonNode max = body.has("max_completion_tokens") ? body.get("max_completion_tokens") : body.get("max_tokens");
    long estimatedTokens = promptTokens + (embeddings ? 0 : max != null && max.canConvertToLong() ? max.asLong() : DEFAULT_COMPLETION_ESTIMATE);
    String fingerprint = sha256(provider.name() + "\n" + provider.baseUrl() + "\n" + provider.model() + "\n" + recordKey + "\n" + call.id()
        + "\n" + text);
    String cacheKey = cache ? sha256(provider.cacheScope() + "\n" + provider.model() + "\n" + text + "\n" + index) : null;
    ModelSpec model = call.model();
    return new ModelRequest(recordKey, call.id(), call.attempt(), model.model(), text, fingerprint, estimatedTokens, cacheKey,
        model.timeoutSeconds() == null ? null : java.time.Duration.ofSeconds(model.timeoutSeconds()), null,
        embeddings ? ModelRequest.EMBEDDINGS : ModelRequest.CHAT);
  }

  public static ModelRequest build(
      String recordKey, long index, long specSeed, CallId id, int attempt, ModelSpec model, Provider provider, List<ChatMessage> messages,
      ObjectNode schema, boolean cache) {
    return build(recordKey, index, specSeed, id, attempt, model, provider, messages, schema, cache, List.of());
  }

  /**
   * {@code schema}: the JSON Schema the answer must meet (null: free text), sent as
   * {@code response_format: json_schema} or, for a provider configured with
   * {@code structured-output = prompt}, as instructions after the last message.
   */
  public static ModelRequest build(
      String recordKey, long index, long specSeed, CallId id, int attempt, ModelSpec model, Provider provider, List<ChatMessage> messages,
      ObjectNode schema, boolean cache, List<ObjectNode> tools) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", provider.model());
    ArrayNode array = body.putArray("messages");
    for (int i = 0; i < messages.size(); i++) {
      ChatMessage m = messages.get(i);
      String content = m.content();
      if (schema != null && provider.schemaInPrompt() && i == messages.size() - 1) {
        content = content + "\n\nAnswer with only a JSON value (no other text) that conforms to this JSON Schema:\n" + schema;
      }
      ObjectNode message = array.addObject().put("role", m.role());
      if (m.toolCallId() != null) {
        message.put("tool_call_id", m.toolCallId());
      }
      if (m.toolCalls() != null) {
        toolCalls(message, m.toolCalls());
      }
      if (m.images() == null) {
        message.put("content", content);
      } else {
        // OpenAI's content parts: the text, then each image by URL (a data: URI for base64).
        ArrayNode parts = message.putArray("content");
        parts.addObject().put("type", "text").put("text", content);
        m.images().forEach(url -> parts.addObject().put("type", "image_url").putObject("image_url").put("url", url));
      }
    }
    if (!tools.isEmpty()) {
      tools.forEach(body.putArray("tools")::add);
    }
    if (schema != null && !provider.schemaInPrompt()) {
      ObjectNode format = body.putObject("response_format").put("type", "json_schema");
      format.putObject("json_schema").put("name", id.step()).put("strict", true).set("schema", schema);
    }
    long seed = seed(specSeed, index, id);
    if (model.temperature() != null) {
      body.put("temperature", model.temperature());
    } else if (model.temperatureDistribution() != null) {
      body.put("temperature", model.temperatureDistribution().sample(seed));
    }
    if (model.topP() != null) {
      body.put("top_p", model.topP());
    } else if (model.topPDistribution() != null) {
      body.put("top_p", model.topPDistribution().sample(seed * 31 + 7));
    }
    if (model.maxTokens() != null) {
      body.put("max_tokens", model.maxTokens());
    }
    if (model.stop() != null && !model.stop().isEmpty()) {
      ArrayNode stop = body.putArray("stop");
      model.stop().forEach(stop::add);
    }
    body.put("seed", seed);
    for (Map.Entry<String, Object> e : new TreeMap<>(model.params()).entrySet()) {
      if (!body.has(e.getKey())) {
        body.set(e.getKey(), JSON.valueToTree(e.getValue()));
      }
    }
    String text = body.toString();
    long promptTokens = 0;
    for (ObjectNode tool : tools) {
      promptTokens += TokenEstimates.count(provider.model(), tool.toString());
    }
    for (ChatMessage m : messages) {
      promptTokens += TokenEstimates.count(provider.model(), m.content()) + (m.images() == null ? 0 : m.images().size() * IMAGE_CHARS / 4);
    }
    long estimatedTokens = promptTokens + (model.maxTokens() != null ? model.maxTokens() : DEFAULT_COMPLETION_ESTIMATE);
    String fingerprint = sha256(provider.name() + "\n" + provider.baseUrl() + "\n" + provider.model() + "\n" + recordKey + "\n" + id + "\n" + text);
    String cacheKey = cache ? sha256(provider.cacheScope() + "\n" + provider.model() + "\n" + text) : null;
    return new ModelRequest(recordKey, id, attempt, model.model(), text, fingerprint, estimatedTokens, cacheKey,
        model.timeoutSeconds() == null ? null : java.time.Duration.ofSeconds(model.timeoutSeconds()));
  }

  /**
   * The request as {@code tenant}'s job makes it (null: no tenant's): gateways share their turns
   * between tenants, and its cache entry is the tenant's own, so no tenant is answered from, or
   * learns of, another's requests.
   */
  public static ModelRequest owned(ModelRequest r, String tenant) {
    if (tenant == null) {
      return r;
    }
    return new ModelRequest(r.recordKey(), r.callId(), r.attempt(), r.model(), r.body(), r.fingerprint(), r.estimatedTokens(),
        r.cacheKey() == null ? null : sha256(r.cacheKey() + "\ntenant:" + tenant), r.timeout(), tenant, r.endpoint());
  }

  /** {@code tool_calls} as OpenAI writes them, on {@code message}: the wire and the rows' traces show them alike. */
  static void toolCalls(ObjectNode message, List<io.skein.protocol.ToolCall> calls) {
    ArrayNode out = message.putArray("tool_calls");
    calls.forEach(c -> out.addObject().put("id", c.id()).put("type", "function")
        .putObject("function").put("name", c.name()).put("arguments", c.arguments()));
  }

  /** A non-negative 31-bit seed, stable for (spec seed, record index, step, sample, turn). */
  public static long seed(long specSeed, long index, CallId id) {
    long h = specSeed * 0x9E3779B97F4A7C15L + index;
    h = h * 31 + id.step().hashCode();
    h = h * 31 + id.sample();
    h = h * 31 + id.turn();
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h & 0x7fffffffL;
  }

  static String sha256(String s) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
