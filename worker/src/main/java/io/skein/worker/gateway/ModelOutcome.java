package io.skein.worker.gateway;

import io.skein.protocol.ToolCall;
import io.skein.protocol.Usage;
import java.util.List;

/**
 * What one attempt of a call came to. The gateway makes single attempts; the record decides what
 * to do next: {@link Ok} is persisted, {@link Failed} costs an attempt (retried if
 * {@code retryable}), {@link NotSent} costs nothing and is asked again after {@code delayMillis}.
 */
public sealed interface ModelOutcome {

  /**
   * An answer; {@code cached}: from the response cache, not the provider; {@code toolCalls}: the
   * tools the model asks to call before it answers (its text may then be empty).
   */
  record Ok(String text, String finishReason, Usage usage, long latencyMillis, boolean cached, List<ToolCall> toolCalls)
      implements ModelOutcome {
    public Ok {
      toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public Ok(String text, String finishReason, Usage usage, long latencyMillis, boolean cached) {
      this(text, finishReason, usage, latencyMillis, cached, List.of());
    }

    public Ok(String text, String finishReason, Usage usage, long latencyMillis) {
      this(text, finishReason, usage, latencyMillis, false);
    }
  }

  record Failed(String errorType, boolean retryable, int status, String message, long retryAfterMillis, long latencyMillis)
      implements ModelOutcome {}

  record NotSent(String reason, long delayMillis) implements ModelOutcome {}

  /** Error types, as they appear in CallFailed events and error rows. */
  final class Errors {
    public static final String RATE_LIMITED = "rate_limited";
    public static final String SERVER_ERROR = "server_error";
    public static final String TIMEOUT = "timeout";
    public static final String CONNECTION = "connection_error";
    public static final String INVALID_RESPONSE = "invalid_response";
    public static final String UNAUTHORIZED = "unauthorized";
    public static final String FORBIDDEN = "forbidden";
    public static final String NOT_FOUND = "model_not_found";
    public static final String CONTEXT_LENGTH = "context_length_exceeded";
    public static final String BAD_REQUEST = "bad_request";

    private Errors() {}

    /**
     * Refusals that would meet every record the same way and that no retry fixes: a wrong API key,
     * no access to the model, no such model. They pause the job instead of failing records.
     */
    public static boolean blocksJob(String errorType) {
      return UNAUTHORIZED.equals(errorType) || FORBIDDEN.equals(errorType) || NOT_FOUND.equals(errorType);
    }

    /** Classifies an HTTP error status the way the retry policy needs it. */
    public static Failed fromStatus(int status, String body, long retryAfterMillis, long latencyMillis) {
      String message = "HTTP " + status + (body == null || body.isBlank() ? "" : ": " + abbreviate(body, 300));
      return switch (status) {
        case 429 -> new Failed(RATE_LIMITED, true, status, message, retryAfterMillis, latencyMillis);
        case 401 -> new Failed(UNAUTHORIZED, false, status, message, 0, latencyMillis);
        case 403 -> new Failed(FORBIDDEN, false, status, message, 0, latencyMillis);
        case 404 -> new Failed(NOT_FOUND, false, status, message, 0, latencyMillis);
        case 408 -> new Failed(TIMEOUT, true, status, message, retryAfterMillis, latencyMillis);
        default -> {
          if (status >= 500) {
            yield new Failed(SERVER_ERROR, true, status, message, retryAfterMillis, latencyMillis);
          }
          boolean context = body != null && (body.contains("context_length") || body.contains("maximum context length"));
          yield new Failed(context ? CONTEXT_LENGTH : BAD_REQUEST, false, status, message, 0, latencyMillis);
        }
      };
    }

    public static String abbreviate(String s, int max) {
      return s.length() <= max ? s : s.substring(0, max) + "...";
    }
  }
}
