package io.skein.worker.step;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.ToolCall;
import io.skein.protocol.spec.ModelSpec;
import java.util.List;

/** What one sample of a step comes to now, as its {@link StepLogic} decides from the record's state. */
public sealed interface Outcome {

  /** The sample's value (JSON), and the model's reasoning if it gave any (else null). */
  record Value(JsonNode value, String reasoning) implements Outcome {
    public Value(JsonNode value) {
      this(value, null);
    }
  }

  /** The calls the sample needs now; calls already in flight are left out by the planner. */
  record Calls(List<Call> calls) implements Outcome {
    public Calls(Call call) {
      this(List.of(call));
    }
  }

  /** The sample cannot produce a value: the record fails with this error. */
  record Failed(String errorType, String message) implements Outcome {}

  /**
   * One model call: its identity, its model, the messages it adds to its conversation (what the
   * journal keeps), the whole conversation it sends, and the JSON Schema its answer must meet
   * (null: free text), which the request carries as {@code response_format} or as instructions;
   * {@code tools}: the tool sets ({@code tools:} of the spec) whose tools the request offers;
   * {@code body}: a whole request body given by the record, sent as it is but for its {@code model}
   * (null: the request is built from the messages).
   */
  record Call(CallId id, ModelSpec model, List<ChatMessage> added, List<ChatMessage> messages, ObjectNode schema, List<String> tools,
      ObjectNode body) {
    public Call {
      tools = tools == null ? List.of() : List.copyOf(tools);
    }

    /** A call whose request Skein builds from its messages (every kind but {@code request}). */
    public Call(CallId id, ModelSpec model, List<ChatMessage> added, List<ChatMessage> messages, ObjectNode schema, List<String> tools) {
      this(id, model, added, messages, schema, tools, null);
    }

    /** A call that offers no tools. */
    public Call(CallId id, ModelSpec model, List<ChatMessage> added, List<ChatMessage> messages, ObjectNode schema) {
      this(id, model, added, messages, schema, List.of());
    }
  }

  /** Tool calls the model asked for that have no answer yet: the record runs them, then the step goes on. */
  record Tools(List<ToolUse> uses) implements Outcome {}

  /** The tool call {@code index} of the answer to {@code call}, to run through the step's tool sets. */
  record ToolUse(CallId call, int index, ToolCall toolCall, List<String> toolsets) {}
}
