package io.skein.worker.entity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.protocol.RecordProtocol.CallFailed;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.RecordFailed;
import io.skein.protocol.RecordProtocol.RecordStarted;
import io.skein.protocol.RecordProtocol.ValuesComputed;
import io.skein.worker.gateway.ModelAccess;
import io.skein.worker.gateway.ModelGateway;
import io.skein.worker.gateway.ModelOutcome;
import io.skein.worker.gateway.ModelRequest;
import io.skein.worker.gateway.Provider;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.template.TemplateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Runs a record through the same planner and model gateways as a {@link RecordWorker}, but keeps
 * its events in memory and writes no row: {@code skein preview} and {@code POST /jobs/preview}.
 * Answers may come from (and go to) the response cache; retries and corrections happen as in a job.
 */
public final class Preview {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;
  private final ModelAccess models;
  private final Duration callTimeout;
  private final io.skein.worker.tools.ToolAccess tools;

  public Preview(ActorSystem<?> system, ModelAccess models, Duration callTimeout) {
    this(system, models, callTimeout, io.skein.worker.tools.ToolAccess.NONE);
  }

  /** {@code tools}: the node's MCP tools, which a previewed record calls as a job's would. */
  public Preview(ActorSystem<?> system, ModelAccess models, Duration callTimeout, io.skein.worker.tools.ToolAccess tools) {
    this.system = system;
    this.models = models;
    this.callTimeout = callTimeout;
    this.tools = tools;
  }

  /** The record's row (its output row, or its error row), as a job would write it. */
  public CompletionStage<JsonNode> run(PipelinePlan plan, RecordInput input, String recordKey) {
    return run(plan, input, recordKey, null);
  }

  /** As above, for {@code tenant} (null: none): its calls take the tenant's turns, caps and cache. */
  public CompletionStage<JsonNode> run(PipelinePlan plan, RecordInput input, String recordKey, String tenant) {
    RecordState state = new RecordState().apply(new RecordStarted(System.currentTimeMillis()));
    return drive(new RecordContext(plan, input, tenant), state, new HashMap<>(), recordKey);
  }

  private CompletionStage<JsonNode> drive(RecordContext ctx, RecordState state, Map<io.skein.protocol.CallId, Long> notBefore, String key) {
    long now = System.currentTimeMillis();
    StepPlanner.Decision d = StepPlanner.next(ctx.plan(), ctx.input(), state, Set.of(), notBefore, now, 0);
    if (d instanceof StepPlanner.Finish) {
      try {
        return CompletableFuture.completedFuture(Rows.render(ctx, state).output());
      } catch (TemplateException e) {
        return failed(ctx, state, new RecordFailed(StepPlanner.TEMPLATE_ERROR, e.getMessage(), null, now));
      }
    }
    if (d instanceof StepPlanner.Fail f) {
      return failed(ctx, state, new RecordFailed(f.errorType(), f.message(), f.step(), now));
    }
    if (d instanceof StepPlanner.Blocked b) {
      return failed(ctx, state, new RecordFailed(b.errorType(), b.message(), b.step(), now));
    }
    StepPlanner.Proceed p = (StepPlanner.Proceed) d;
    if (p.computesValues()) {
      state.apply(new ValuesComputed(p.computed(), p.skipped(), now));
    }
    if (!p.tools().isEmpty()) {
      return runTools(ctx, state, p.tools(), key).thenCompose(x -> drive(ctx, state, notBefore, key));
    }
    if (p.calls().isEmpty()) {
      if (!p.computesValues() && p.wakeAt() == Long.MAX_VALUE) {
        // Nothing to send, compute or wait for: a planner bug; say so rather than spin.
        return failed(ctx, state, new RecordFailed("preview_stuck", "the record has nothing to do and has not finished", null, now));
      }
      long delay = p.wakeAt() == Long.MAX_VALUE ? 0 : Math.max(1, p.wakeAt() - now);
      return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS))
          .thenCompose(x -> drive(ctx, state, notBefore, key));
    }
    List<CompletableFuture<ModelGateway.Reply>> replies = new ArrayList<>();
    for (StepPlanner.PlannedCall call : p.calls()) {
      Provider provider;
      try {
        provider = models.provider(call.model().model());
      } catch (IllegalArgumentException e) {
        return failed(ctx, state, new RecordFailed("no_provider", e.getMessage(), call.id().step(), now));
      }
      boolean caching = ctx.plan().spec().cache() && models.caching();
      CompletableFuture<List<com.fasterxml.jackson.databind.node.ObjectNode>> offered = call.tools().isEmpty()
          ? CompletableFuture.completedFuture(List.of())
          : tools.definitions(ctx.plan().spec().tools(), call.tools()).toCompletableFuture();
      replies.add(offered.thenCompose(defs -> {
        ModelRequest request = CallRequests.owned(
            CallRequests.build(key, ctx.input().index(), ctx.plan().spec().seed(), call, provider, caching, defs), ctx.tenant());
        return AskPattern.<ModelGateway.Command, ModelGateway.Reply>ask(models.gateway(call.model().model()),
            replyTo -> new ModelGateway.Call(request, replyTo), callTimeout, system.scheduler());
      }));
    }
    return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).handleAsync((done, error) -> {
      for (int i = 0; i < replies.size(); i++) {
        if (replies.get(i).isCompletedExceptionally() && !p.calls().get(i).tools().isEmpty()) {
          return failed(ctx, state, new RecordFailed(RecordWorker.TOOL_ERROR, "the tools " + p.calls().get(i).tools() + " cannot be listed: "
              + replies.get(i).handle((r, e) -> e.getCause() != null ? e.getCause().getMessage() : e.getMessage()).join(),
              p.calls().get(i).id().step(), now));
        }
        apply(ctx, state, notBefore, p.calls().get(i), replies.get(i).join());
      }
      return drive(ctx, state, notBefore, key);
    }, system.executionContext()).thenCompose(next -> next);
  }

  /** Runs the tool calls the record waits for, then keeps each result (in order, on one thread) as a job's record would. */
  private CompletableFuture<Void> runTools(RecordContext ctx, RecordState state, List<io.skein.worker.step.Outcome.ToolUse> uses, String key) {
    List<CompletableFuture<io.skein.worker.tools.ToolAccess.ToolResult>> runs = new ArrayList<>();
    for (var use : uses) {
      runs.add(tools.call(ctx.plan().spec().tools(), use.toolsets(), use.toolCall(), key + "/" + use.call() + "/" + use.index())
          .toCompletableFuture());
    }
    return CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).thenRunAsync(() -> {
      for (int i = 0; i < uses.size(); i++) {
        var use = uses.get(i);
        var r = runs.get(i).join();
        state.apply(new io.skein.protocol.RecordProtocol.ToolCalled(use.call(), use.index(), use.toolCall().id(), use.toolCall().name(),
            r.server(), r.text(), r.error(), "preview", r.latencyMillis(), System.currentTimeMillis()));
      }
    }, system.executionContext());
  }

  private static void apply(RecordContext ctx, RecordState state, Map<io.skein.protocol.CallId, Long> notBefore,
      StepPlanner.PlannedCall call, ModelGateway.Reply reply) {
    long now = System.currentTimeMillis();
    ModelRequest request = reply.request();
    if (reply.outcome() instanceof ModelOutcome.Ok ok) {
      state.apply(new CallSucceeded(call.id(), request.attempt(), request.fingerprint(), "preview", request.model(), call.newMessages(),
          ok.text(), ok.finishReason(), ok.usage(), ok.latencyMillis(), now, ok.cached(),
          ok.toolCalls().isEmpty() ? Rows.interpret(ctx, state, call.id(), ok.text()) : null, ok.toolCalls(), reply.endpoint()));
    } else if (reply.outcome() instanceof ModelOutcome.Failed f) {
      state.apply(new CallFailed(call.id(), request.attempt(), request.fingerprint(), "preview", f.errorType(), f.retryable(), f.status(),
          f.message(), f.retryAfterMillis(), f.latencyMillis(), now, reply.endpoint()));
    } else {
      notBefore.put(call.id(), now + ((ModelOutcome.NotSent) reply.outcome()).delayMillis());
    }
  }

  private static CompletionStage<JsonNode> failed(RecordContext ctx, RecordState state, RecordFailed failure) {
    state.apply(failure);
    try {
      return CompletableFuture.completedFuture(JSON.readTree(Rows.ended("preview", ctx, state).row()));
    } catch (Exception e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
