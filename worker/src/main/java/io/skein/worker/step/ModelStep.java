package io.skein.worker.step;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.spec.MessageTemplate;
import io.skein.protocol.spec.ModelSpec;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.template.Templates;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A step that asks a model, turn by turn, until an answer is good: the base of the llm kinds. Each
 * answer is read when it arrives ({@link #read}, then the validators that may send the step back)
 * and what was read is persisted with it, so the loop is replayed from the journal alone: an answer
 * that breaks the schema goes back with its errors in the same conversation (up to
 * {@code max_correction_steps}), then the conversation starts over (up to {@code max_restarts}); a
 * validator's errors go back in the same conversation, counted against {@code max_restarts}.
 */
public abstract class ModelStep implements StepLogic {

  /** Error type of a record whose step got no acceptable answer within its corrections and restarts. */
  public static final String INVALID_OUTPUT = "invalid_output";
  public static final String VALIDATION_FAILED = "validation_failed";
  /** Error type of a record whose model kept asking for tools after its {@code max_tool_turns} were spent and it was told so. */
  public static final String TOOL_TURNS_EXCEEDED = "tool_turns_exceeded";
  /** What a tool call beyond {@code max_tool_turns} is answered, without running it (as Data Designer does). */
  static final String TOOL_TURNS_SPENT = "Tool call refused: this conversation has used all its tool turns. Answer now, without calling tools.";

  protected final StepSpec step;
  protected final ModelConfig config;

  protected ModelStep(StepSpec step, ModelConfig config) {
    this.step = step;
    this.config = config;
  }

  /** What the kind reads from an answer (its reasoning already removed): a value, or what is wrong with it. */
  protected abstract Read read(String answer);

  /** A read answer: its value, or the errors that send it back (non-empty). */
  protected record Read(JsonNode value, List<String> errors) {
    public static Read ok(JsonNode value) {
      return new Read(value, List.of());
    }

    public static Read wrong(List<String> errors) {
      return new Read(null, errors);
    }
  }

  /**
   * An answer that must be JSON meeting {@code schema}: the parsed value, after {@code fix} has
   * mended what is meant but mis-typed, or what is wrong (not JSON, or what breaks the schema).
   */
  protected static Read json(String answer, com.networknt.schema.JsonSchema schema, java.util.function.Consumer<JsonNode> fix) {
    JsonNode value;
    try {
      value = JsonSchemas.parseAnswer(answer);
    } catch (IllegalArgumentException e) {
      return Read.wrong(List.of(e.getMessage()));
    }
    fix.accept(value);
    List<String> errors = JsonSchemas.validate(schema, value);
    return errors.isEmpty() ? Read.ok(value) : Read.wrong(errors);
  }

  /** The JSON Schema the answer must meet, sent with the request; null for free text. */
  protected ObjectNode answerSchema() {
    return null;
  }

  /** Added to the end of the user prompt of the first turn (a rubric, a format); null for none. */
  protected String instructions() {
    return null;
  }

  /** The user message that sends a wrong answer back. */
  protected String correction(List<String> errors) {
    return "Your answer is not valid:\n- " + String.join("\n- ", errors) + "\nAnswer again, correcting every point.";
  }

  @Override
  public Map<String, String> templates() {
    return config.templates();
  }

  @Override
  public Map<String, String> names() {
    return config.names();
  }

  @Override
  public boolean local() {
    return false;
  }

  @Override
  public ModelSpec model() {
    return config.model();
  }

  @Override
  public String continues() {
    return config.continueFrom();
  }

  @Override
  public Outcome next(SampleView view) {
    Replay r = replay(view);
    if (r.outcome != null) {
      return r.outcome;
    }
    List<ChatMessage> added = r.nextAdded != null ? r.nextAdded : render(view.context());
    List<ChatMessage> messages = new ArrayList<>(r.base);
    messages.addAll(added);
    CallId id = new CallId(step.name(), view.sample(), view.answers().size());
    return new Outcome.Calls(new Outcome.Call(id, config.model(), added, messages, answerSchema(), config.tools()));
  }

  @Override
  public JsonNode interpret(SampleView view, CallId call, String answer) {
    Reasoning.Split split = Reasoning.split(answer);
    Read read = read(split.answer() == null ? "" : split.answer());
    ObjectNode result = Json.MAPPER.createObjectNode();
    if (!read.errors().isEmpty()) {
      return errors(result.put("ok", false).put("retry", "correct"), read.errors());
    }
    for (StepLogic check : view.checks()) {
      List<String> problems = check.check(read.value());
      if (!problems.isEmpty()) {
        return errors(result.put("ok", false).put("retry", "regenerate"), problems);
      }
    }
    result.put("ok", true);
    if (!(read.value().isTextual() && read.value().asText().equals(answer))) {
      result.set("value", read.value());
    }
    if (split.reasoning() != null) {
      result.put("reasoning", split.reasoning());
    }
    return result;
  }

  private static ObjectNode errors(ObjectNode result, List<String> errors) {
    ArrayNode list = result.putArray("errors");
    errors.forEach(list::add);
    return result;
  }

  @Override
  public List<ChatMessage> sent(SampleView view, CallId id) {
    Replay r = replay(view);
    return id.turn() < r.sent.size() ? r.sent.get(id.turn()) : List.of();
  }

  @Override
  public List<ChatMessage> conversation(SampleView view) {
    Replay r = replay(view);
    if (!(r.outcome instanceof Outcome.Value) || r.sent.isEmpty()) {
      return List.of();
    }
    List<ChatMessage> out = new ArrayList<>(r.sent.get(r.sent.size() - 1));
    out.add(ChatMessage.assistant(answerText(view.answers().get(view.answers().size() - 1))));
    return out;
  }

  /** Where the turn loop stands: the outcome if it has one, else the next call's conversation so far and its new messages (null: render the prompt anew). */
  private static final class Replay {
    final List<List<ChatMessage>> sent = new ArrayList<>();
    Outcome outcome;
    List<ChatMessage> base;
    List<ChatMessage> nextAdded;
  }

  private Replay replay(SampleView view) {
    Replay r = new Replay();
    List<ChatMessage> start = config.continueFrom() == null ? List.of() : view.conversationOf(config.continueFrom());
    r.base = start;
    int corrections = 0;
    int restarts = 0;
    int toolTurns = 0;
    for (CallSucceeded answer : view.answers()) {
      List<ChatMessage> sent = new ArrayList<>(r.base);
      sent.addAll(answer.request());
      r.sent.add(sent);
      if (!answer.toolCalls().isEmpty()) {
        toolTurns++;
        if (toolTurns > config.maxToolTurns() + 1) {
          r.outcome = new Outcome.Failed(TOOL_TURNS_EXCEEDED, "the model asked for tools again after its " + config.maxToolTurns()
              + " tool turns were spent and it was told to answer");
          return r;
        }
        List<Outcome.ToolUse> waiting = new ArrayList<>();
        List<ChatMessage> answered = withToolResults(view, answer, sent, toolTurns > config.maxToolTurns(), waiting);
        if (!waiting.isEmpty()) {
          r.outcome = new Outcome.Tools(waiting);
          return r;
        }
        r.base = answered;
        r.nextAdded = List.of();
        continue;
      }
      JsonNode result = answer.result();
      if (result == null || result.path("ok").asBoolean(false)) {
        r.outcome = new Outcome.Value(value(answer), result == null ? null : result.path("reasoning").textValue());
        return r;
      }
      List<String> errors = Json.strings(result.get("errors"));
      boolean regenerate = "regenerate".equals(result.path("retry").asText());
      List<ChatMessage> answered = new ArrayList<>(sent);
      answered.add(ChatMessage.assistant(answerText(answer)));
      if (!regenerate && corrections < config.maxCorrections()) {
        corrections++;
        r.base = answered;
        r.nextAdded = List.of(ChatMessage.user(correction(errors)));
      } else if (restarts < config.maxRestarts()) {
        restarts++;
        corrections = 0;
        toolTurns = regenerate ? toolTurns : 0;
        r.base = regenerate ? answered : start;
        r.nextAdded = regenerate ? List.of(ChatMessage.user(correction(errors))) : null;
      } else {
        int calls = view.answers().size();
        r.outcome = new Outcome.Failed(regenerate ? VALIDATION_FAILED : INVALID_OUTPUT,
            "no acceptable answer after " + calls + (calls == 1 ? " call" : " calls") + "; last: " + String.join("; ", errors));
        return r;
      }
    }
    return r;
  }

  /**
   * The conversation after an answer that asks for tools: the answer, then each tool's result, as
   * the journal has it ({@code refused}: the turns are spent, so each is answered with a refusal and
   * nothing runs); the tool calls without a result yet go to {@code waiting}.
   */
  private List<ChatMessage> withToolResults(SampleView view, CallSucceeded answer, List<ChatMessage> sent, boolean refused,
      List<Outcome.ToolUse> waiting) {
    List<ChatMessage> out = new ArrayList<>(sent);
    out.add(ChatMessage.assistant(Reasoning.strip(answer.response()), answer.toolCalls()));
    for (int i = 0; i < answer.toolCalls().size(); i++) {
      io.skein.protocol.ToolCall call = answer.toolCalls().get(i);
      var done = refused ? null : view.toolResult(answer.call(), i);
      if (refused) {
        out.add(ChatMessage.tool(call.id(), TOOL_TURNS_SPENT));
      } else if (done == null) {
        waiting.add(new Outcome.ToolUse(answer.call(), i, call, config.tools()));
      } else {
        out.add(ChatMessage.tool(call.id(), done.result()));
      }
    }
    return out;
  }

  /** The value an answer gave: what was read from it, or (journals before step kinds) its text. */
  private static JsonNode value(CallSucceeded answer) {
    JsonNode result = answer.result();
    if (result == null) {
      return TextNode.valueOf(answer.response());
    }
    return result.has("value") ? result.get("value") : TextNode.valueOf(answer.response());
  }

  /** The answer as the conversation goes on with it: without its reasoning. */
  private static String answerText(CallSucceeded answer) {
    return answer.result() == null ? answer.response() : Reasoning.strip(answer.response());
  }

  /** The first turn's new messages, rendered from the record's values. */
  private List<ChatMessage> render(Map<String, Object> context) {
    Templates t = Templates.get();
    List<ChatMessage> out = new ArrayList<>();
    String extra = instructions();
    if (config.messages() != null) {
      List<MessageTemplate> ms = config.messages();
      int lastUser = -1;
      for (int i = 0; i < ms.size(); i++) {
        lastUser = ms.get(i).role().equals("user") ? i : lastUser;
      }
      List<String> images = Images.resolve(config.images(), context);
      for (int i = 0; i < ms.size(); i++) {
        String content = t.render(ms.get(i).content(), context);
        out.add(new ChatMessage(ms.get(i).role(), i == lastUser && extra != null ? content + "\n\n" + extra : content,
            i == lastUser ? images : null));
      }
      return out;
    }
    if (config.system() != null) {
      out.add(ChatMessage.system(t.render(config.system(), context)));
    }
    String prompt = t.render(config.prompt(), context);
    out.add(ChatMessage.user(extra == null ? prompt : prompt + "\n\n" + extra).withImages(Images.resolve(config.images(), context)));
    return out;
  }
}
