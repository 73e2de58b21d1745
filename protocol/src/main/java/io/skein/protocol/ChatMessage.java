package io.skein.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One message of a chat conversation, as OpenAI-compatible endpoints take it; a user message may
 * carry images ({@code images:} on a step): URLs, or {@code data:} URIs for base64 images. The
 * journal keeps what was sent, so a URL is kept as the URL, never the image it names. An assistant
 * message may ask for {@code toolCalls}; a {@code tool} message answers one ({@code toolCallId}).
 */
public record ChatMessage(
    String role,
    String content,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> images,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<ToolCall> toolCalls,
    @JsonInclude(JsonInclude.Include.NON_NULL) String toolCallId)
    implements CborSerializable {

  public ChatMessage {
    images = images == null || images.isEmpty() ? null : List.copyOf(images);
    toolCalls = toolCalls == null || toolCalls.isEmpty() ? null : List.copyOf(toolCalls);
  }

  public ChatMessage(String role, String content, List<String> images) {
    this(role, content, images, null, null);
  }

  public ChatMessage(String role, String content) {
    this(role, content, null);
  }

  /** An assistant's answer that asks for tool calls (its text may be empty). */
  public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
    return new ChatMessage("assistant", content, null, toolCalls, null);
  }

  /** A tool's answer to the call {@code toolCallId}. */
  public static ChatMessage tool(String toolCallId, String content) {
    return new ChatMessage("tool", content, null, null, toolCallId);
  }

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content);
  }

  /** The same message with these images (none: null or empty). */
  public ChatMessage withImages(List<String> images) {
    return new ChatMessage(role, content, images, toolCalls, toolCallId);
  }

  /** Images counted, not shown: a base64 image is megabytes. */
  @Override
  public String toString() {
    return "ChatMessage[role=" + role + ", content=" + content + (images == null ? "" : ", images=" + images.size())
        + (toolCalls == null ? "" : ", toolCalls=" + toolCalls) + (toolCallId == null ? "" : ", toolCallId=" + toolCallId) + "]";
  }
}
