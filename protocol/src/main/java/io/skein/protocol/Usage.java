package io.skein.protocol;

/**
 * Token usage a provider reported for one call; {@code cachedPromptTokens}: how many of the prompt's
 * tokens the provider served from its prompt cache ({@code usage.prompt_tokens_details.cached_tokens},
 * billed at a discount by some providers; 0 when it said nothing, and in journals written before it).
 */
public record Usage(
    long promptTokens,
    long completionTokens,
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
    long cachedPromptTokens) implements CborSerializable {

  public static final Usage NONE = new Usage(0, 0);

  public Usage(long promptTokens, long completionTokens) {
    this(promptTokens, completionTokens, 0);
  }

  public long total() {
    return promptTokens + completionTokens;
  }
}
