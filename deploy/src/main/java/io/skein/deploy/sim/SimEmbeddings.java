package io.skein.deploy.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The simulator's {@code POST /v1/embeddings}: for each input a unit vector of {@code dimensions}
 * (16 unless asked) drawn from a hash of the text, so the same text always has the same embedding.
 */
final class SimEmbeddings {

  private static final ObjectMapper JSON = new ObjectMapper();
  static final int DEFAULT_DIMENSIONS = 16;
  static final int MAX_DIMENSIONS = 4096;

  private SimEmbeddings() {}

  /** Why the request is refused (a 400), or null. */
  static String refusal(JsonNode req) {
    JsonNode input = req == null ? null : req.get("input");
    if (input == null || !(input.isTextual() || input.isArray() && !input.isEmpty())) {
      return "`input` must be a string or a non-empty list of strings";
    }
    JsonNode dims = req.path("dimensions");
    if (!dims.isMissingNode() && (!dims.isIntegralNumber() || dims.asInt() < 1 || dims.asInt() > MAX_DIMENSIONS)) {
      return "`dimensions` must be an integer from 1 to " + MAX_DIMENSIONS + ", got " + dims;
    }
    return null;
  }

  static ObjectNode answer(JsonNode req) {
    int dimensions = req.path("dimensions").asInt(DEFAULT_DIMENSIONS);
    ObjectNode out = JSON.createObjectNode().put("object", "list");
    ArrayNode data = out.putArray("data");
    JsonNode input = req.get("input");
    long tokens = 0;
    int index = 0;
    for (JsonNode item : input.isArray() ? input : JSON.createArrayNode().add(input)) {
      String text = item.isTextual() ? item.asText() : item.toString();
      tokens += Math.max(1, text.length() / 4);
      ObjectNode e = data.addObject().put("object", "embedding").put("index", index++);
      vector(text, dimensions, e.putArray("embedding"));
    }
    out.put("model", req.path("model").asText("sim-embed"));
    out.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
    return out;
  }

  private static void vector(String text, int dimensions, ArrayNode into) {
    double[] v = new double[dimensions];
    double norm = 0;
    byte[] block = new byte[0];
    for (int i = 0; i < dimensions; i++) {
      if (i % 32 == 0) {
        block = sha256(i / 32 + ":" + text);
      }
      v[i] = (block[i % 32] & 0xff) / 127.5 - 1;
      norm += v[i] * v[i];
    }
    double scale = norm == 0 ? 1 : 1 / Math.sqrt(norm);
    for (double x : v) {
      into.add(Math.round(x * scale * 1e6) / 1e6);
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
