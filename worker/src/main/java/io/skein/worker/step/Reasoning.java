package io.skein.worker.step;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Separates a model's reasoning from its answer: {@code <think>…</think>} blocks (the HTTP client
 * puts a response's {@code reasoning_content} in front of the content as such a block), including
 * an unclosed block a length cut left behind.
 */
public final class Reasoning {

  private static final Pattern THINK = Pattern.compile("(?s)<think>(.*?)(?:</think>|\\z)");

  /** The answer without reasoning, and the reasoning (null when there is none). */
  public record Split(String answer, String reasoning) {}

  private Reasoning() {}

  public static Split split(String text) {
    if (text == null || !text.contains("<think>")) {
      return new Split(text, null);
    }
    StringBuilder reasoning = new StringBuilder();
    Matcher m = THINK.matcher(text);
    StringBuilder answer = new StringBuilder();
    while (m.find()) {
      if (reasoning.length() > 0) {
        reasoning.append("\n\n");
      }
      reasoning.append(m.group(1).strip());
      m.appendReplacement(answer, "");
    }
    m.appendTail(answer);
    return new Split(answer.toString().strip(), reasoning.toString());
  }

  public static String strip(String text) {
    return split(text).answer();
  }
}
