package io.skein.worker.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.ToolCall;
import io.skein.protocol.spec.ToolsSpec;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A node's way to the MCP tools of a spec's {@code tools:} sets: what a model call offers (the
 * tools' definitions, in OpenAI's {@code tools} format) and running one tool call. A record asks;
 * the node keeps the connections.
 */
public interface ToolAccess {

  /**
   * The {@code tools} entries ({@code {type: function, function: {name, description, parameters}}})
   * of the allowed tools of {@code sets}, in a stable order; fails when a server cannot be reached
   * or lists none of them.
   */
  CompletionStage<List<ObjectNode>> definitions(ToolsSpec spec, List<String> sets);

  /**
   * Runs {@code call} on the server of {@code sets} that has its tool, within the set's timeout.
   * Never fails: a tool that reports an error, a tool that is not offered, bad arguments, or a
   * server that does not answer in time come back as an error result the model is shown.
   * {@code key} names this tool call across retries and crashes (record, model call, index): the
   * server gets it as {@code _meta["io.skein/call"]}, to deduplicate side effects if it must.
   */
  CompletionStage<ToolResult> call(ToolsSpec spec, List<String> sets, ToolCall call, String key);

  /**
   * What this node cannot do of {@code spec} without reaching any server: a server name its config
   * does not have, a command it may not start. Checked when a job is submitted.
   */
  default List<io.skein.protocol.spec.SpecError> problems(ToolsSpec spec) {
    return List.of();
  }

  /** What a tool call came to: the server that ran it (null: none did), its text, whether it is an error. */
  record ToolResult(String server, String text, boolean error, long latencyMillis) {
    public static ToolResult error(String text) {
      return new ToolResult(null, text, true, 0);
    }
  }

  /** A node without MCP: a step with tools cannot get their definitions. */
  ToolAccess NONE = new ToolAccess() {
    @Override
    public CompletionStage<List<ObjectNode>> definitions(ToolsSpec spec, List<String> sets) {
      return CompletableFuture.failedFuture(new IllegalStateException("this node runs no MCP tools"));
    }

    @Override
    public CompletionStage<ToolResult> call(ToolsSpec spec, List<String> sets, ToolCall call, String key) {
      return CompletableFuture.completedFuture(ToolResult.error("this node runs no MCP tools"));
    }
  };
}
