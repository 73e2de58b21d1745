package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.ToolCall;
import io.skein.protocol.spec.ModelSpec;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Json;
import io.skein.worker.step.Outcome;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SampleView;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepLogic;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code kind: request}: the record holds a whole chat-completions request body (an OpenAI Batch
 * line's {@code body}), sent as it is but for {@code model}, which becomes the alias's provider
 * model. The value is the answer as OpenAI's {@code chat.completion} object, rebuilt from what the
 * journal keeps of it (text, tool calls, finish reason, usage), so replays give the same value.
 */
public final class RequestKind implements StepKind {

  /** Error type of a record whose body field is not a request body. */
  public static final String INVALID_REQUEST = "invalid_request";

  @Override
  public String name() {
    return "request";
  }

  @Override
  public String description() {
    return "Send the chat-completions request body a record holds (an OpenAI Batch line's `body`) as it is, but for its model; "
        + "the value is the answer as OpenAI's chat.completion object.";
  }

  @Override
  public ObjectNode schema() {
    return Json.object("""
        {"properties": {
          "model": {"type": "string", "description": "A model alias declared under `models`: the request goes to its provider, with that provider's model name."},
          "body": {"type": "string", "description": "The record field that holds the request body, a JSON object with `messages` (default `body`)."},
          "endpoint": {"enum": ["chat", "embeddings"], "description": "chat (default): a chat-completions body, answered as a chat.completion; embeddings: an embeddings body (`input`), answered as the provider's list of embeddings."}
        }, "required": ["model"]}""");
  }

  @Override
  public StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    ModelSpec model = spec.model(step.text("model"), step, "model", problems);
    String field = step.text("body") == null ? "body" : step.text("body");
    return new Logic(step.name(), model, field, "embeddings".equals(step.text("endpoint")));
  }

  /** {@code embeddings}: the bodies are embeddings requests, else chat completions. */
  record Logic(String step, ModelSpec model, String field, boolean embeddings) implements StepLogic {

    @Override
    public Map<String, String> templates() {
      return Map.of();
    }

    @Override
    public Map<String, String> names() {
      return Map.of("body", field);
    }

    @Override
    public boolean local() {
      return false;
    }

    @Override
    public Outcome next(SampleView view) {
      if (!view.answers().isEmpty()) {
        CallSucceeded answer = view.answers().get(view.answers().size() - 1);
        return new Outcome.Value(embeddings ? embeddingList(answer) : completion(answer));
      }
      JsonNode body = Json.MAPPER.valueToTree(view.context().get(field));
      if (embeddings && !(body instanceof ObjectNode o && (o.path("input").isTextual() || o.path("input").isArray()) && !o.has("messages"))) {
        return new Outcome.Failed(INVALID_REQUEST, "`" + field + "` must be an embeddings request body: a JSON object with an `input`"
            + " (text, or a list) and no `messages`");
      }
      if (!embeddings && (!(body instanceof ObjectNode o) || !o.path("messages").isArray() || o.get("messages").isEmpty())) {
        return new Outcome.Failed(INVALID_REQUEST, "`" + field + "` must be a chat-completions request body: a JSON object with a"
            + " non-empty `messages` list");
      }
      ObjectNode request = (ObjectNode) body;
      List<ChatMessage> messages = messages(request);
      CallId id = new CallId(step, view.sample(), 0);
      return new Outcome.Calls(new Outcome.Call(id, model, messages, messages, null, List.of(), request));
    }

    @Override
    public List<ChatMessage> sent(SampleView view, CallId id) {
      return view.context().get(field) == null ? List.of() : messages(Json.MAPPER.valueToTree(view.context().get(field)));
    }

    @Override
    public List<ChatMessage> conversation(SampleView view) {
      if (view.answers().isEmpty()) {
        return List.of();
      }
      CallSucceeded answer = view.answers().get(view.answers().size() - 1);
      List<ChatMessage> out = new ArrayList<>(answer.request());
      out.add(ChatMessage.assistant(answer.response(), answer.toolCalls()));
      return out;
    }
  }

  /**
   * The request's messages as the journal and the annotated rows keep them: each role and its text
   * (text parts joined); an embeddings body's input as one user message.
   */
  static List<ChatMessage> messages(JsonNode request) {
    List<ChatMessage> out = new ArrayList<>();
    if (!request.has("messages") && request.has("input")) {
      JsonNode input = request.get("input");
      out.add(ChatMessage.user(input.isTextual() ? input.asText() : input.toString()));
      return out;
    }
    for (JsonNode m : request.path("messages")) {
      JsonNode content = m.path("content");
      String text;
      if (content.isArray()) {
        StringBuilder joined = new StringBuilder();
        content.forEach(part -> joined.append(part.path("text").asText("")));
        text = joined.toString();
      } else {
        text = content.isNull() || content.isMissingNode() ? "" : content.asText();
      }
      out.add(new ChatMessage(m.path("role").asText("user"), text));
    }
    return out;
  }

  /** An embeddings answer: the provider's list as it came, named by the model the request asked for. */
  static JsonNode embeddingList(CallSucceeded answer) {
    try {
      JsonNode list = Json.MAPPER.readTree(answer.response());
      if (list instanceof ObjectNode o) {
        o.put("model", answer.model());
      }
      return list;
    } catch (java.io.IOException e) {
      throw new IllegalStateException("an embeddings answer in the journal is not JSON: " + e.getMessage(), e);
    }
  }

  /** The answer as OpenAI's {@code chat.completion} object: one choice, with its tool calls and the usage the provider reported. */
  static ObjectNode completion(CallSucceeded answer) {
    ObjectNode c = Json.MAPPER.createObjectNode();
    c.put("id", "chatcmpl-" + answer.fingerprint());
    c.put("object", "chat.completion");
    c.put("created", answer.atMillis() / 1000);
    c.put("model", answer.model());
    ObjectNode choice = c.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode message = choice.putObject("message").put("role", "assistant");
    if (answer.toolCalls().isEmpty() || answer.response() != null && !answer.response().isEmpty()) {
      message.put("content", answer.response());
    } else {
      message.putNull("content");
    }
    message.putNull("refusal");
    if (!answer.toolCalls().isEmpty()) {
      ArrayNode calls = message.putArray("tool_calls");
      for (ToolCall t : answer.toolCalls()) {
        calls.addObject().put("id", t.id()).put("type", "function").putObject("function").put("name", t.name())
            .put("arguments", t.arguments());
      }
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", answer.finishReason() == null ? "stop" : answer.finishReason());
    ObjectNode usage = c.putObject("usage").put("prompt_tokens", answer.usage().promptTokens())
        .put("completion_tokens", answer.usage().completionTokens()).put("total_tokens", answer.usage().total());
    if (answer.usage().cachedPromptTokens() > 0) {
      usage.putObject("prompt_tokens_details").put("cached_tokens", answer.usage().cachedPromptTokens());
    }
    return c;
  }
}
