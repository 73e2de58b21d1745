package io.skein.deploy.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the simulator's chat completions take and give on the wire, as OpenAI's API does: the
 * request fields it checks ({@code max_tokens}, {@code n}, {@code stream}), several choices, and a
 * completion as a stream of server-sent events ({@code chat.completion.chunk}s, then
 * {@code [DONE]}), so the official SDKs' streaming and multi-choice calls work against it.
 */
final class ChatWire {

  static final int MAX_TOKENS = 131_072;
  static final int MAX_CHOICES = 128;

  private static final ObjectMapper JSON = new ObjectMapper();

  private ChatWire() {}

  /** Why the request is refused (a 400, as OpenAI words it), or null. */
  static String refusal(JsonNode req) {
    for (String key : new String[] {"max_tokens", "max_completion_tokens"}) {
      JsonNode v = req.path(key);
      if (!v.isMissingNode() && !v.isNull() && (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1 || v.asInt() > MAX_TOKENS)) {
        return "`" + key + "` must be an integer from 1 to " + MAX_TOKENS + ", got " + v;
      }
    }
    JsonNode n = req.path("n");
    if (!n.isMissingNode() && !n.isNull() && (!n.isIntegralNumber() || n.asInt() < 1 || n.asInt() > MAX_CHOICES)) {
      return "`n` must be an integer from 1 to " + MAX_CHOICES + ", got " + n;
    }
    JsonNode stream = req.path("stream");
    if (!stream.isMissingNode() && !stream.isNull() && !stream.isBoolean()) {
      return "`stream` must be true or false, got " + stream;
    }
    String format = req.path("response_format").path("type").asText("text");
    if (!format.equals("text") && !format.equals("json_object") && !format.equals("json_schema")) {
      return "`response_format.type` must be text, json_object or json_schema, got `" + format + "`";
    }
    int i = 0;
    java.util.Set<String> asked = new java.util.HashSet<>();
    for (JsonNode m : req.path("messages")) {
      String at = "messages[" + i++ + "]";
      if (m.path("role").asText().equals("tool")) {
        // As OpenAI: a tool message answers a tool call an earlier assistant message made.
        if (!asked.contains(m.path("tool_call_id").asText())) {
          return "Invalid parameter: " + at + " with role 'tool' must be a response to a preceding message with 'tool_calls'"
              + " (no tool call `" + m.path("tool_call_id").asText() + "`)";
        }
        continue;
      }
      m.path("tool_calls").forEach(c -> asked.add(c.path("id").asText()));
      if (!m.path("tool_calls").isEmpty() && m.path("content").isNull()) {
        continue;
      }
      String wrong = contentRefusal(m.path("content"), at + ".content");
      if (wrong != null) {
        return wrong;
      }
    }
    for (JsonNode t : req.path("tools")) {
      if (!t.path("type").asText().equals("function") || !t.path("function").path("name").isTextual()) {
        return "`tools` entries must be {type: function, function: {name, description, parameters}}, got " + t;
      }
    }
    return null;
  }

  /**
   * {@code completion} made an answer that calls tools: one of those offered, or two different ones
   * when more are offered and the draw says so, each with arguments that fit its parameters' schema.
   */
  static ObjectNode toolCalls(ObjectNode completion, JsonNode tools, java.util.SplittableRandom random) {
    ObjectNode message = (ObjectNode) completion.path("choices").path(0).path("message");
    ArrayNode calls = message.putArray("tool_calls");
    int first = random.nextInt(tools.size());
    int count = tools.size() > 1 && random.nextBoolean() ? 2 : 1;
    for (int k = 0; k < count; k++) {
      JsonNode function = tools.get((first + k) % tools.size()).path("function");
      JsonNode parameters = function.path("parameters").isObject() ? function.get("parameters") : JSON.createObjectNode().put("type", "object");
      calls.addObject().put("id", "call_" + Long.toHexString(random.nextLong() & 0xffffffffffL)).put("type", "function")
          .putObject("function").put("name", function.path("name").asText())
          .put("arguments", SchemaAnswers.conforming(parameters, random).toString());
    }
    ((ObjectNode) completion.path("usage")).put("completion_tokens", 12 * count).put("total_tokens",
        completion.path("usage").path("prompt_tokens").asLong() + 12L * count);
    return completion;
  }

  private static final java.util.regex.Pattern IMAGE_URL =
      java.util.regex.Pattern.compile("https?://\\S+|data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+=*");

  /** A message's content: a string, or content parts (text, and images by http(s) URL or base64 data: URI). */
  private static String contentRefusal(JsonNode content, String at) {
    if (!content.isArray()) {
      return null;
    }
    for (int p = 0; p < content.size(); p++) {
      JsonNode part = content.get(p);
      String type = part.path("type").asText();
      if (type.equals("text") && part.path("text").isTextual()) {
        continue;
      }
      if (!type.equals("image_url")) {
        return at + "[" + p + "]: a content part is {type: text, text} or {type: image_url, image_url: {url}}";
      }
      String url = part.path("image_url").path("url").asText("");
      if (!IMAGE_URL.matcher(url).matches()) {
        return at + "[" + p + "].image_url.url: not an http(s) URL or a base64 data:image URI";
      }
      if (url.startsWith("data:")) {
        try {
          java.util.Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1));
        } catch (IllegalArgumentException e) {
          return at + "[" + p + "].image_url.url: invalid base64: " + e.getMessage();
        }
      }
    }
    return null;
  }

  /** A message's text: its content, or its text parts joined. */
  static String text(JsonNode content) {
    if (!content.isArray()) {
      return content.asText("");
    }
    StringBuilder text = new StringBuilder();
    content.forEach(part -> text.append(part.path("text").asText("")));
    return text.toString();
  }

  /** How many images a message's content carries. */
  static int images(JsonNode content) {
    int n = 0;
    for (JsonNode part : content) {
      n += part.path("type").asText().equals("image_url") ? 1 : 0;
    }
    return n;
  }

  static int choices(JsonNode req) {
    return req.path("n").asInt(1);
  }

  /** Adds the first choice of {@code more} to {@code into} as choice {@code index}, with its tokens. */
  static void addChoice(ObjectNode into, ObjectNode more, int index) {
    ObjectNode choice = (ObjectNode) more.get("choices").get(0);
    choice.put("index", index);
    ((ArrayNode) into.get("choices")).add(choice);
    ObjectNode usage = (ObjectNode) into.get("usage");
    long completion = usage.get("completion_tokens").asLong() + more.at("/usage/completion_tokens").asLong();
    usage.put("completion_tokens", completion);
    usage.put("total_tokens", usage.get("prompt_tokens").asLong() + completion);
  }

  /** A completion as the event stream of {@code stream: true}: a role delta, content deltas, the finish, usage if asked, [DONE]. */
  static String events(ObjectNode completion, boolean includeUsage) {
    StringBuilder out = new StringBuilder();
    for (JsonNode choice : completion.get("choices")) {
      int index = choice.get("index").asInt();
      out.append(event(completion, index, JSON.createObjectNode().put("role", "assistant").put("content", ""), null));
      String content = choice.at("/message/content").isTextual() ? choice.at("/message/content").asText() : "";
      for (int from = 0; from < content.length(); ) {
        int to = content.indexOf(' ', from + 1);
        to = to < 0 ? content.length() : to;
        out.append(event(completion, index, JSON.createObjectNode().put("content", content.substring(from, to)), null));
        from = to;
      }
      out.append(event(completion, index, JSON.createObjectNode(), choice.get("finish_reason").asText()));
    }
    if (includeUsage) {
      ObjectNode last = chunk(completion);
      last.set("usage", completion.get("usage"));
      out.append("data: ").append(last).append("\n\n");
    }
    return out.append("data: [DONE]\n\n").toString();
  }

  private static String event(ObjectNode completion, int index, ObjectNode delta, String finish) {
    ObjectNode chunk = chunk(completion);
    ObjectNode choice = chunk.withArray("choices").addObject();
    choice.put("index", index);
    choice.set("delta", delta);
    if (finish == null) {
      choice.putNull("finish_reason");
    } else {
      choice.put("finish_reason", finish);
    }
    return "data: " + chunk + "\n\n";
  }

  private static ObjectNode chunk(ObjectNode completion) {
    ObjectNode chunk = JSON.createObjectNode();
    chunk.set("id", completion.get("id"));
    chunk.put("object", "chat.completion.chunk");
    chunk.set("created", completion.get("created"));
    chunk.set("model", completion.get("model"));
    chunk.putArray("choices");
    return chunk;
  }
}
