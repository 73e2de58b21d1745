package io.skein.protocol;

/** One message of a chat conversation, as OpenAI-compatible endpoints take it. */
public record ChatMessage(String role, String content) implements CborSerializable {

  public static ChatMessage system(String content) {
    return new ChatMessage("system", content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content);
  }
}
