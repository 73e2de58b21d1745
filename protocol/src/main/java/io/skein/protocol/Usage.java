package io.skein.protocol;

/** Token usage a provider reported for one call. */
public record Usage(long promptTokens, long completionTokens) implements CborSerializable {

  public static final Usage NONE = new Usage(0, 0);

  public long total() {
    return promptTokens + completionTokens;
  }
}
