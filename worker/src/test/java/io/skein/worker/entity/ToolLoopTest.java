package io.skein.worker.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.RecordStarted;
import io.skein.protocol.RecordProtocol.ToolCalled;
import io.skein.protocol.ToolCall;
import io.skein.protocol.Usage;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.entity.StepPlanner.Decision;
import io.skein.worker.entity.StepPlanner.Fail;
import io.skein.worker.entity.StepPlanner.PlannedCall;
import io.skein.worker.entity.StepPlanner.Proceed;
import io.skein.worker.gateway.Provider;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.step.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A model step with tools, planned from its journal alone: an answer that asks for tools makes the
 * record run them (each once: a tool call with a result is never asked for again), the next call
 * sends the answer and every result in OpenAI's format and offers the tools again; calls past
 * {@code max_tool_turns} are refused without running, and a model that insists fails the record.
 */
class ToolLoopTest {

  private static final String SPEC = """
      name: tools
      models: {m: {model: sim-small}}
      tools:
        calc: {command: calc-server, allow: [add], max_tool_turns: 2}
      steps:
        - {name: answer, model: m, prompt: "Add {{ a }} and {{ b }}.", tools: [calc]}
      """;
  private static final PipelinePlan PLAN = PipelinePlan.compile(SpecParser.parse(SPEC), List.of("a", "b"));
  private final RecordInput input = RecordInput.of(0, json("{\"id\": \"r\", \"a\": 2, \"b\": 3}"));
  private final RecordState state = new RecordState().apply(new RecordStarted(1));

  private static ObjectNode json(String s) {
    try {
      return (ObjectNode) new ObjectMapper().readTree(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private Decision next() {
    return StepPlanner.next(PLAN, input, state, Set.of(), Map.of(), 1_000, 0);
  }

  private PlannedCall call() {
    Proceed p = assertInstanceOf(Proceed.class, next());
    assertEquals(1, p.calls().size(), p.toString());
    return p.calls().get(0);
  }

  private void answer(PlannedCall call, String text, ToolCall... tools) {
    state.apply(new CallSucceeded(call.id(), 1, "fp", "node", "sim-small", call.newMessages(), text, tools.length > 0 ? "tool_calls" : "stop",
        new Usage(5, 5), 3, 1_000, false, tools.length > 0 ? null : json("{\"ok\": true}"), List.of(tools)));
  }

  private void ran(Outcome.ToolUse use, String result) {
    state.apply(new ToolCalled(use.call(), use.index(), use.toolCall().id(), use.toolCall().name(), "calc", result, false, "node", 2, 1_000));
  }

  @Test
  void toolResultsGoBackToTheModelAndEachToolCallRunsOnce() {
    PlannedCall first = call();
    assertEquals(List.of("calc"), first.tools(), "the call offers the step's tools");
    answer(first, "", new ToolCall("c1", "add", "{\"a\": 2, \"b\": 3}"), new ToolCall("c2", "add", "{\"a\": 1, \"b\": 1}"));

    Proceed tools = assertInstanceOf(Proceed.class, next());
    assertEquals(List.of(), tools.calls(), "no model call while tools run");
    assertEquals(List.of("c1", "c2"), tools.tools().stream().map(u -> u.toolCall().id()).toList());
    ran(tools.tools().get(0), "5");
    Proceed one = assertInstanceOf(Proceed.class, next());
    assertEquals(List.of("c2"), one.tools().stream().map(u -> u.toolCall().id()).toList(), "a tool call with a result never runs again");
    ran(one.tools().get(0), "2");

    PlannedCall second = call();
    assertEquals(new CallId("answer", 0, 1), second.id());
    List<ChatMessage> sent = second.messages();
    assertEquals(List.of("user", "assistant", "tool", "tool"), sent.stream().map(ChatMessage::role).toList());
    assertEquals(2, sent.get(1).toolCalls().size());
    assertEquals("c1", sent.get(2).toolCallId());
    assertEquals("5", sent.get(2).content());

    ModelRequestBody body = ModelRequestBody.of(second);
    assertEquals("add", body.body().at("/messages/1/tool_calls/0/function/name").asText(), body.body().toString());
    assertEquals("{\"a\": 2, \"b\": 3}", body.body().at("/messages/1/tool_calls/0/function/arguments").asText());
    assertEquals("c2", body.body().at("/messages/3/tool_call_id").asText());
    assertEquals("add", body.body().at("/tools/0/function/name").asText(), "the definitions go as `tools`");

    answer(second, "The sum is 5.");
    assertInstanceOf(StepPlanner.Finish.class, next());
  }

  @Test
  void callsBeyondMaxToolTurnsAreRefusedWithoutRunningAndAnInsistentModelFails() {
    for (int turn = 0; turn < 2; turn++) {
      answer(call(), "", new ToolCall("t" + turn, "add", "{}"));
      ran(assertInstanceOf(Proceed.class, next()).tools().get(0), "0");
    }
    answer(call(), "", new ToolCall("t2", "add", "{}"));
    PlannedCall afterRefusal = call();
    assertEquals(List.of(), assertInstanceOf(Proceed.class, next()).tools(), "the third round runs nothing");
    ChatMessage refusal = afterRefusal.messages().get(afterRefusal.messages().size() - 1);
    assertEquals("tool", refusal.role());
    assertTrue(refusal.content().startsWith("Tool call refused"), refusal.content());

    answer(afterRefusal, "", new ToolCall("t3", "add", "{}"));
    Fail fail = assertInstanceOf(Fail.class, next());
    assertEquals("tool_turns_exceeded", fail.errorType());
    assertEquals("answer", fail.step());
  }

  @Test
  void aStepNamingAnUndeclaredToolSetIsASpecProblem() {
    SpecException e = assertThrows(SpecException.class,
        () -> PipelinePlan.compile(SpecParser.parse(SPEC.replace("tools: [calc]", "tools: [calculator]")), List.of("a", "b")));
    assertTrue(e.getMessage().contains("steps[0] (answer).tools") && e.getMessage().contains("(it declares [calc])"), e.getMessage());
    SpecException both = assertThrows(SpecException.class,
        () -> SpecParser.parse(SPEC.replace("{command: calc-server,", "{command: calc-server, url: http://x/mcp,")));
    assertTrue(both.getMessage().contains("tools.calc") && both.getMessage().contains("exactly one of `command`"), both.getMessage());
  }

  /** The request body a planned call sends, with one tool definition. */
  private record ModelRequestBody(com.fasterxml.jackson.databind.JsonNode body) {
    static ModelRequestBody of(PlannedCall call) {
      Provider provider = new Provider("sim", "http://localhost:1", null, "sim-small", 8, Duration.ofSeconds(5));
      ObjectNode add = ToolLoopTest.json("{\"type\": \"function\", \"function\": {\"name\": \"add\", \"parameters\": {\"type\": \"object\"}}}");
      return new ModelRequestBody(ToolLoopTest.json(CallRequests.build("job/0", 0, 0, call, provider, false, List.of(add)).body()));
    }
  }
}
