package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.RecordFailed;
import io.skein.protocol.spec.MessageTemplate;
import io.skein.protocol.spec.OutputSpec;
import io.skein.protocol.spec.ProcessorSpec;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.template.JsonTemplates;
import io.skein.worker.template.TemplateException;
import io.skein.worker.template.Templates;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
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
  /** What a succeeded record writes: its output row and its row of each extra dataset (null: none). */
  public record Rendered(ObjectNode output, String datasets) {}

  /**
   * Renders the record's output and datasets, to do before it is marked succeeded, so that a
   * template failing at render time fails the record instead; the exception names what failed.
   */
  public static Rendered render(RecordContext ctx, RecordState state) {
    ObjectNode output;
    try {
      output = output(ctx, state);
    } catch (TemplateException e) {
      throw new TemplateException("output: " + e.getMessage());
    }
    return new Rendered(output, datasets(ctx, state));
  }

  /** The row of a succeeded record, rendered (by {@link #render}) before it ended. */
  public static ResultRow success(String jobId, RecordContext ctx, RecordState state, Rendered rendered) {
    ObjectNode detail = detail(ctx, state, true);
    return new ResultRow(jobId, ctx.input().index(), true, rendered.output().toString(), detail.toString(), state.calls(), state.tokens(),
        rendered.datasets());
  }

  /**
   * The ledger row of an ended record, whatever its journal holds: a succeeded record whose row no
   * longer renders (a template changed by an upgrade, say) gets an error row saying so, never none.
   */
  public static ResultRow ended(String jobId, RecordContext ctx, RecordState state) {
    if (state.isSucceeded()) {
      try {
        return success(jobId, ctx, state, render(ctx, state));
      } catch (RuntimeException e) {
        String why = e instanceof TemplateException ? e.getMessage() : String.valueOf(e);
        return failure(jobId, ctx, state, new RecordFailed(StepPlanner.TEMPLATE_ERROR,
            why + " (the record succeeded, but its row no longer renders)", null, state.finishedAt()));
      }
    }
    return failure(jobId, ctx, state, state.failure());
  }

  /** The error row of a record its job does not know (no such job, index or stored input): there is nothing else to say. */
  public static ResultRow unknown(String jobId, long index, String why) {
    ObjectNode row = JSON.createObjectNode();
    row.put("id", index);
    row.putObject("error").put("type", "unknown_record").put("message", why);
    return new ResultRow(jobId, index, false, row.toString(), JSON.createObjectNode().put("index", index).toString(), 0, 0);
  }

  /** The record's row of each extra dataset, {@code {name: row}}; null when the spec has none. */
  static String datasets(RecordContext ctx, RecordState state) {
    if (ctx.plan().spec().datasets().isEmpty()) {
      return null;
    }
    RecordView view = new RecordView(ctx.plan(), ctx.input(), state);
    view.settle();
    ObjectNode all = JSON.createObjectNode();
    for (ProcessorSpec p : ctx.plan().spec().datasets()) {
      try {
        all.set(p.name(), JsonTemplates.render(p.template(), view.context()));
      } catch (TemplateException e) {
        throw new TemplateException("processor " + p.name() + ": " + e.getMessage());
      }
    }
    return all.toString();
  }

  /**
   * Renders the training-data row; throws {@link io.skein.worker.template.TemplateException} if an
   * output template fails. Without {@code output:} in the spec, the row holds the id, the input's
   * fields and every step value not dropped (null if skipped), each model step's trace and reasoning
   * beside it when asked for: Data Designer's shape.
   */
  public static ObjectNode output(RecordContext ctx, RecordState state) {
    RecordView view = new RecordView(ctx.plan(), ctx.input(), state);
    view.settle();
    OutputSpec output = ctx.plan().spec().output();
    ObjectNode row = JSON.createObjectNode();
    row.set("id", ctx.input().id());
    if (output == null) {
      if (ctx.input().raw() != null) {
        ctx.input().raw().fields().forEachRemaining(e -> row.set(e.getKey(), e.getValue()));
      }
      row.set("id", ctx.input().id());
      for (PipelinePlan.Step s : ctx.plan().steps()) {
        if (!s.spec().drop()) {
          putStep(row, view, s);
        }
      }
      ctx.plan().spec().dropped().forEach(row::remove);
      return row;
    }
    ArrayNode messages = row.putArray("messages");
    if (output.messages() != null) {
      for (MessageTemplate m : output.messages()) {
        messages.addObject().put("role", m.role()).put("content", Templates.get().render(m.content(), view.context()));
      }
    } else if (ctx.plan().lastStep() != null) {
      PipelinePlan.Step last = ctx.plan().lastStep();
      messages.addAll(messages(last.logic().conversation(view.sample(last, 0))));
    }
    output.fields().forEach((k, v) -> row.put(k, Templates.get().render(v, view.context())));
    ctx.plan().spec().dropped().forEach(row::remove);
    return row;
  }

  private static void putStep(ObjectNode row, RecordView view, PipelinePlan.Step s) {
    RecordView.Resolved r = view.resolved(s.name());
    row.set(s.name(), r == null || r.value() == null ? NullNode.getInstance() : r.value());
    String trace = s.spec().withTrace();
    if (!"none".equals(trace)) {
      row.set(s.name() + "__trace", r == null || r.skipped() ? NullNode.getInstance() : trace(view, s, "all".equals(trace)));
    }
    if (s.spec().extractReasoning()) {
      row.set(s.name() + "__reasoning_content", r == null || r.reasoning() == null ? NullNode.getInstance() : r.reasoning());
    }
  }

  /** A model step's messages as chat messages: the whole conversation, or only the final answer; a list per sample if n > 1. */
  private static JsonNode trace(RecordView view, PipelinePlan.Step s, boolean all) {
    ArrayNode samples = JSON.createArrayNode();
    for (int i = 0; i < s.spec().n(); i++) {
      List<ChatMessage> conversation = s.logic().conversation(view.sample(s, i));
      List<ChatMessage> shown = all || conversation.isEmpty() ? conversation : conversation.subList(conversation.size() - 1, conversation.size());
      samples.add(messages(shown));
    }
    return s.spec().n() == 1 ? samples.get(0) : samples;
  }

  private static ArrayNode messages(List<ChatMessage> messages) {
    ArrayNode out = JSON.createArrayNode();
    for (ChatMessage m : messages) {
      ObjectNode message = out.addObject().put("role", m.role()).put("content", m.content());
      if (m.images() != null) {
        m.images().forEach(message.putArray("images")::add);
      }
      if (m.toolCalls() != null) {
        CallRequests.toolCalls(message, m.toolCalls());
      }
      if (m.toolCallId() != null) {
        message.put("tool_call_id", m.toolCallId());
      }
    }
    return out;
  }

  /** The text of a record's field or step value, for dedupe: a string as it is, other JSON as JSON; null when there is none. */
  static String text(RecordContext ctx, RecordState state, String field) {
    Object value = new RecordView(ctx.plan(), ctx.input(), state).context().get(field);
    if (value == null) {
      return null;
    }
    return value instanceof String s ? s : JSON.valueToTree(value).toString();
  }

  /** What the kind of the call's step reads from its answer, to persist with it. */
  static JsonNode interpret(RecordContext ctx, RecordState state, CallId id, String answer) {
    RecordView view = new RecordView(ctx.plan(), ctx.input(), state);
    return ctx.plan().step(id.step()).logic().interpret(view.sample(id), id, answer);
  }

  public static ResultRow failure(String jobId, RecordContext ctx, RecordState state, RecordFailed f) {
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
    RecordView view = new RecordView(ctx.plan(), ctx.input(), state);
    if (ctx.input().error() == null) {
      try {
        view.settle();
      } catch (RuntimeException e) {
        // The error row still gets written, with the values that did resolve.
      }
    }
    for (PipelinePlan.Step s : ctx.plan().steps()) {
      RecordView.Resolved r = view.resolved(s.name());
      if (r != null && !r.skipped()) {
        steps.set(s.name(), r.value());
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
    RecordView view = new RecordView(ctx.plan(), ctx.input(), state);
    Set<CallId> ids = new LinkedHashSet<>(state.succeeded().keySet());
    ids.addAll(state.allFailures().keySet());
    List<CallId> ordered = new ArrayList<>(ids);
    ordered.sort(Comparator.comparingInt((CallId c) -> position(ctx.plan(), c)).thenComparingInt(CallId::sample).thenComparingInt(CallId::turn));
    for (CallId id : ordered) {
      calls.add(call(view, state, id));
    }
    ObjectNode timings = detail.putObject("timings");
    timings.put("started_at", java.time.Instant.ofEpochMilli(state.startedAt()).toString());
    timings.put("finished_at", java.time.Instant.ofEpochMilli(state.finishedAt()).toString());
    timings.put("duration_ms", state.finishedAt() - state.startedAt());
    timings.put("model_ms", state.succeeded().values().stream().mapToLong(CallSucceeded::latencyMillis).sum());
    return detail;
  }

  private static ObjectNode call(RecordView view, RecordState state, CallId id) {
    ObjectNode c = JSON.createObjectNode();
    c.put("step", id.step());
    if (id.sample() != 0 || id.turn() != 0) {
      c.put("sample", id.sample());
      c.put("turn", id.turn());
    }
    CallSucceeded ok = state.result(id);
    List<CallFailed> failed = state.failedAttempts(id);
    // Attempts sent to the provider: an answer from the response cache is not one.
    c.put("attempts", failed.size() + (ok == null || ok.cached() ? 0 : 1));
    if (ok != null) {
      if (ok.cached()) {
        c.put("cached", true);
      }
      c.put("model", ok.model());
      c.put("node", ok.node());
      if (ok.endpoint() != null) {
        c.put("endpoint", ok.endpoint());
      }
      c.put("fingerprint", ok.fingerprint());
      PipelinePlan.Step step = view.plan().step(id.step());
      c.set("messages", messages(step == null ? ok.request() : step.logic().sent(view.sample(id), id)));
      c.put("response", ok.response());
      if (ok.result() != null && !ok.result().path("ok").asBoolean(true)) {
        c.set("rejected", ok.result().path("errors"));
      }
      c.put("finish_reason", ok.finishReason());
      ObjectNode usage = c.putObject("usage")
          .put("prompt_tokens", ok.usage().promptTokens())
          .put("completion_tokens", ok.usage().completionTokens());
      if (ok.usage().cachedPromptTokens() > 0) {
        usage.put("cached_tokens", ok.usage().cachedPromptTokens());
      }
      c.put("latency_ms", ok.latencyMillis());
    }
    if (!failed.isEmpty()) {
      ArrayNode failures = c.putArray("failures");
      for (CallFailed f : failed) {
        ObjectNode fn = failures.addObject();
        fn.put("attempt", f.attempt());
        fn.put("node", f.node());
        if (f.endpoint() != null) {
          fn.put("endpoint", f.endpoint());
        }
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
