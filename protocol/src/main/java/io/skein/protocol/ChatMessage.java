package io.skein.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One message of a chat conversation, as OpenAI-compatible endpoints take it; a user message may
 * carry images ({@code images:} on a step): URLs, or {@code data:} URIs for base64 images. The
 * journal keeps what was sent, so a URL is kept as the URL, never the image it names.
 */
public record ChatMessage(String role, String content, @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> images)
    implements CborSerializable {

  public ChatMessage {
    images = images == null || images.isEmpty() ? null : List.copyOf(images);
  }

  public ChatMessage(String role, String content) {
    this(role, content, null);
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
    return new ChatMessage(role, content, images);
  }

  /** Images counted, not shown: a base64 image is megabytes. */
  @Override
  public String toString() {
    return "ChatMessage[role=" + role + ", content=" + content + (images == null ? "" : ", images=" + images.size()) + "]";
  }
}
