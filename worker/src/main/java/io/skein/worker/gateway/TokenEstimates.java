package io.skein.worker.gateway;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A prompt's tokens before it is sent, for the token budgets: counted with OpenAI's own tokenizers
 * (jtokkit, a Java port of tiktoken) for the model families they belong to, else estimated as
 * characters / 4. The estimate is settled on the usage the provider reports. An encoding is loaded
 * the first time a model of its family is seen, so a job on other models never pays for it.
 */
public final class TokenEstimates {

  private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
  private static final Map<String, Optional<Encoding>> BY_MODEL = new ConcurrentHashMap<>();
  /** Families newer than jtokkit's own table, all on o200k_base as tiktoken maps them. */
  private static final String[] O200K = {"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"};

  private TokenEstimates() {}

  /** Tokens of {@code text} as {@code model} (the provider's name for it) counts them, or characters / 4. */
  public static long count(String model, String text) {
    Optional<Encoding> encoding = encoding(model);
    return encoding.isPresent() ? encoding.get().countTokensOrdinary(text) : text.length() / 4;
  }

  /** Whether {@code model}'s tokens are counted by its tokenizer rather than estimated. */
  public static boolean knows(String model) {
    return encoding(model).isPresent();
  }

  private static Optional<Encoding> encoding(String model) {
    return model == null ? Optional.empty() : BY_MODEL.computeIfAbsent(model, TokenEstimates::find);
  }

  private static Optional<Encoding> find(String model) {
    // "openai/gpt-4o" (routers), "azure/gpt-4o-mini": the name after the vendor.
    String name = model.substring(model.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
    for (String family : O200K) {
      if (name.equals(family) || name.startsWith(family + "-")) {
        return Optional.of(REGISTRY.getEncoding(EncodingType.O200K_BASE));
      }
    }
    return REGISTRY.getEncodingForModel(name);
  }
}
