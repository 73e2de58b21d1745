package io.skein.worker.entity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.RecordFailed;
import io.skein.protocol.spec.MessageTemplate;
import io.skein.protocol.spec.OutputSpec;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.template.Templates;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Shapes a finished record into its ledger row. An output row is {@code {"id", "messages", ...fields}};
 * an error row is {@code {"id", "error": {type, message, step}, "input", "steps"}}. The detail that
 * annotated exports merge in holds the input, every call (messages, response, usage, latency,
 * attempts and failures) and timings.
 */
public final class Rows {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Rows() {}

  /** The row of a succeeded record, rendering its output; throws {@link io.skein.worker.template.TemplateException} if that fails. */
  public static ResultRow success(String jobId, RecordContext ctx, RecordState state) {
    return success(jobId, ctx, state, output(ctx, state));
  }

  /** The row of a succeeded record whose output was rendered (by {@link #output}) before it ended. */
  public static ResultRow success(String jobId, RecordContext ctx, RecordState state, ObjectNode output) {
    ObjectNode detail = detail(ctx, state, true);
    return new ResultRow(jobId, ctx.input().index(), true, output.toString(), detail.toString(), state.calls(), state.tokens());
  }

  /** Renders the training-data row; throws {@link io.skein.worker.template.TemplateException} if an output template fails. */
  public static ObjectNode output(RecordContext ctx, RecordState state) {
    PipelinePlan plan = ctx.plan();
    OutputSpec output = plan.spec().output();
    ObjectNode row = JSON.createObjectNode();
    row.set("id", ctx.input().id());
    ArrayNode messages = row.putArray("messages");
    if (output.messages() != null) {
      Map<String, Object> context = StepPlanner.context(plan, ctx.input(), state);
      for (MessageTemplate m : output.messages()) {
        messages.addObject().put("role", m.role()).put("content", Templates.get().render(m.content(), context));
      }
    } else {
      for (ChatMessage m : StepPlanner.conversation(plan, state, plan.lastStep().name())) {
        messages.addObject().put("role", m.role()).put("content", m.content());
      }
    }
    if (!output.fields().isEmpty()) {
      Map<String, Object> context = StepPlanner.context(plan, ctx.input(), state);
      output.fields().forEach((k, v) -> row.put(k, Templates.get().render(v, context)));
    }
    return row;
  }

  public static ResultRow failure(String jobId, RecordContext ctx, RecordState state) {
    RecordFailed f = state.failure();
    ObjectNode row = JSON.createObjectNode();
    row.set("id", ctx.input().id());
    ObjectNode error = row.putObject("error");
    error.put("type", f.errorType());
    error.put("message", f.message());
    if (f.step() != null) {
      error.put("step", f.step());
    }
    row.set("input", ctx.input().raw());
    ObjectNode steps = row.putObject("steps");
    for (PipelinePlan.Step s : ctx.plan().steps()) {
      CallSucceeded r = state.result(s.name());
      if (r != null) {
        steps.put(s.name(), r.response());
      }
    }
    ObjectNode detail = detail(ctx, state, false);
    return new ResultRow(jobId, ctx.input().index(), false, row.toString(), detail.toString(), state.calls(), state.tokens());
  }

  private static ObjectNode detail(RecordContext ctx, RecordState state, boolean withInput) {
    ObjectNode detail = JSON.createObjectNode();
    detail.put("index", ctx.input().index());
    if (withInput) {
      detail.set("input", ctx.input().raw());
    }
    ArrayNode calls = detail.putArray("calls");
    Set<CallId> ids = new LinkedHashSet<>(state.succeeded().keySet());
    ids.addAll(state.allFailures().keySet());
    List<CallId> ordered = new ArrayList<>(ids);
    ordered.sort(Comparator.comparingInt((CallId c) -> position(ctx.plan(), c)).thenComparingInt(CallId::sample).thenComparingInt(CallId::turn));
    for (CallId id : ordered) {
      calls.add(call(ctx.plan(), state, id));
    }
    ObjectNode timings = detail.putObject("timings");
    timings.put("started_at", java.time.Instant.ofEpochMilli(state.startedAt()).toString());
    timings.put("finished_at", java.time.Instant.ofEpochMilli(state.finishedAt()).toString());
    timings.put("duration_ms", state.finishedAt() - state.startedAt());
    timings.put("model_ms", state.succeeded().values().stream().mapToLong(CallSucceeded::latencyMillis).sum());
    return detail;
  }

  private static ObjectNode call(PipelinePlan plan, RecordState state, CallId id) {
    ObjectNode c = JSON.createObjectNode();
    c.put("step", id.step());
    if (id.sample() != 0 || id.turn() != 0) {
      c.put("sample", id.sample());
      c.put("turn", id.turn());
    }
    CallSucceeded ok = state.result(id);
    List<CallFailed> failed = state.failures(id);
    // Attempts sent to the provider: an answer from the response cache is not one.
    c.put("attempts", failed.size() + (ok == null || ok.cached() ? 0 : 1));
    if (ok != null) {
      if (ok.cached()) {
        c.put("cached", true);
      }
      c.put("model", ok.model());
      c.put("node", ok.node());
      c.put("fingerprint", ok.fingerprint());
      ArrayNode messages = c.putArray("messages");
      List<ChatMessage> all = new ArrayList<>(StepPlanner.conversation(plan, state, plan.step(id.step()).spec().continueFrom()));
      all.addAll(ok.request());
      for (ChatMessage m : all) {
        messages.addObject().put("role", m.role()).put("content", m.content());
      }
      c.put("response", ok.response());
      c.put("finish_reason", ok.finishReason());
      c.putObject("usage")
          .put("prompt_tokens", ok.usage().promptTokens())
          .put("completion_tokens", ok.usage().completionTokens());
      c.put("latency_ms", ok.latencyMillis());
    }
    if (!failed.isEmpty()) {
      ArrayNode failures = c.putArray("failures");
      for (CallFailed f : failed) {
        ObjectNode fn = failures.addObject();
        fn.put("attempt", f.attempt());
        fn.put("node", f.node());
        fn.put("error_type", f.errorType());
        fn.put("status", f.status());
        fn.put("message", f.message());
        fn.put("latency_ms", f.latencyMillis());
        if (f.retryAfterMillis() > 0) {
          fn.put("retry_after_ms", f.retryAfterMillis());
        }
      }
    }
    return c;
  }

  private static int position(PipelinePlan plan, CallId id) {
    PipelinePlan.Step s = plan.step(id.step());
    return s == null ? Integer.MAX_VALUE : s.position();
  }
}
