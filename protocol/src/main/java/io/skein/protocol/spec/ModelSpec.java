package io.skein.protocol.spec;

import java.util.List;
import java.util.Map;

/**
 * A model alias as a spec declares it: the server-side model it resolves to ({@code model}, bound
 * to a provider by the server's config, never a URL) and the sampling parameters sent with every
 * call (temperature and top_p may instead be drawn per call from a distribution). {@code params}
 * passes further OpenAI-compatible fields through unchanged.
 */
public record ModelSpec(
    String alias,
    String model,
    Double temperature,
    Integer maxTokens,
    Double topP,
    List<String> stop,
    Integer timeoutSeconds,
    Map<String, Object> params,
    ParamDistribution temperatureDistribution,
    ParamDistribution topPDistribution) {

  /** With fixed sampling parameters. */
  public ModelSpec(String alias, String model, Double temperature, Integer maxTokens, Double topP, List<String> stop,
      Integer timeoutSeconds, Map<String, Object> params) {
    this(alias, model, temperature, maxTokens, topP, stop, timeoutSeconds, params, null, null);
  }
}
