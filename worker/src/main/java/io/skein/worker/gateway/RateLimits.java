package io.skein.worker.gateway;

import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a provider said of its rate limits in an answer's headers, as OpenAI (and vLLM behind
 * gateways, Azure, Groq, Together...) send them: {@code x-ratelimit-limit-requests},
 * {@code -remaining-requests}, {@code -reset-requests} and the same for tokens. A value the answer
 * did not carry is -1. Resets are durations in Go's format ({@code 1s}, {@code 6m0s},
 * {@code 120ms}, {@code 17.262s}) or plain seconds.
 */
public record RateLimits(
    long limitRequests, long remainingRequests, long resetRequestsMillis,
    long limitTokens, long remainingTokens, long resetTokensMillis) {

  public static final RateLimits NONE = new RateLimits(-1, -1, -1, -1, -1, -1);

  public boolean saysRequests() {
    return limitRequests > 0 && remainingRequests >= 0;
  }

  public boolean saysTokens() {
    return limitTokens > 0 && remainingTokens >= 0;
  }

  /** Reads the headers through {@code header} (a name to its value, if the answer has it). */
  public static RateLimits from(Function<String, Optional<String>> header) {
    RateLimits limits = new RateLimits(
        number(header.apply("x-ratelimit-limit-requests")),
        number(header.apply("x-ratelimit-remaining-requests")),
        header.apply("x-ratelimit-reset-requests").map(RateLimits::durationMillis).orElse(-1L),
        number(header.apply("x-ratelimit-limit-tokens")),
        number(header.apply("x-ratelimit-remaining-tokens")),
        header.apply("x-ratelimit-reset-tokens").map(RateLimits::durationMillis).orElse(-1L));
    return limits.equals(NONE) ? NONE : limits;
  }

  private static long number(Optional<String> value) {
    if (value.isEmpty()) {
      return -1;
    }
    try {
      return (long) Math.floor(Double.parseDouble(value.get().trim()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(h|ms|m|s|us|µs|ns)");

  /** {@code 6m0s} → 360000; {@code 120ms} → 120; {@code 2.5} (seconds) → 2500; anything else → -1. */
  static long durationMillis(String text) {
    String s = text.trim();
    if (s.isEmpty()) {
      return -1;
    }
    try {
      return Math.round(Double.parseDouble(s) * 1000);
    } catch (NumberFormatException notPlainSeconds) {
      // Go's format below
    }
    Matcher m = PART.matcher(s);
    double millis = 0;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) {
        return -1;
      }
      end = m.end();
      double v = Double.parseDouble(m.group(1));
      millis += switch (m.group(2)) {
        case "h" -> v * 3_600_000;
        case "m" -> v * 60_000;
        case "s" -> v * 1000;
        case "ms" -> v;
        case "us", "µs" -> v / 1000;
        default -> v / 1_000_000;
      };
    }
    return end == s.length() ? (long) Math.ceil(millis) : -1;
  }
}
