package io.skein.coordinator.http;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The bearer tokens the HTTP API accepts, kept as SHA-256 hashes only: from
 * {@code skein.http.auth.tokens} ({@code [{name = ci, sha256 = "..."}]}, as {@code skein tokens new}
 * prints them) and from {@code SKEIN_API_TOKENS} (comma-separated tokens, such as a Kubernetes
 * Secret holds; named {@code env-1}, {@code env-2}...). None configured: the API asks no credentials.
 * A presented token is hashed and compared in constant time; neither tokens nor hashes are ever
 * printed ({@link #toString} names the holders).
 */
public final class ApiTokens {

  /** Shorter tokens are refused at startup: a guessable token is no token. */
  public static final int MIN_LENGTH = 16;

  public static final ApiTokens NONE = new ApiTokens(Map.of(), true);

  /** Token hash → its holder's name. */
  private final Map<String, String> holders;
  private final boolean metricsOpen;

  private ApiTokens(Map<String, String> holders, boolean metricsOpen) {
    this.holders = holders;
    this.metricsOpen = metricsOpen;
  }

  /** From {@code auth} ({@code skein.http.auth}) and the environment; a bad entry fails, saying which. */
  public static ApiTokens from(Config auth, Function<String, String> env) {
    Map<String, String> holders = new LinkedHashMap<>();
    List<? extends Config> entries = auth.getConfigList("tokens");
    for (int i = 0; i < entries.size(); i++) {
      Config entry = entries.get(i);
      String where = "skein.http.auth.tokens[" + i + "]";
      if (!entry.hasPath("name") || !entry.hasPath("sha256")) {
        throw new IllegalArgumentException(where + ": give `name` and `sha256` (the token's SHA-256 in hex, as `skein tokens new` prints)");
      }
      String hash = entry.getString("sha256").strip().toLowerCase(java.util.Locale.ROOT);
      if (!hash.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException(where + ".sha256: not a SHA-256 in hex (64 characters 0-9a-f)");
      }
      holders.put(hash, entry.getString("name"));
    }
    String fromEnv = env.apply("SKEIN_API_TOKENS");
    if (fromEnv != null && !fromEnv.isBlank()) {
      int n = 0;
      for (String token : fromEnv.split(",")) {
        String t = token.strip();
        n++;
        if (t.length() < MIN_LENGTH) {
          throw new IllegalArgumentException("SKEIN_API_TOKENS: token " + n + " is shorter than " + MIN_LENGTH
              + " characters (make one with `skein tokens new`)");
        }
        holders.put(sha256(t), "env-" + n);
      }
    }
    return new ApiTokens(java.util.Collections.unmodifiableMap(holders), auth.getBoolean("metrics-open"));
  }

  /** Whether the API asks for a token at all. */
  public boolean required() {
    return !holders.isEmpty();
  }

  /** Whether {@code /metrics} answers without a token (for Prometheus scrapes inside the cluster). */
  public boolean metricsOpen() {
    return metricsOpen;
  }

  /** The holder of the token an {@code Authorization} header carries, if it is one of ours. */
  public Optional<String> holder(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    byte[] presented = HexFormat.of().parseHex(sha256(authorization.substring(7).strip()));
    String found = null;
    for (Map.Entry<String, String> e : holders.entrySet()) {
      // Every hash compared, in constant time: how long an answer takes says nothing of the tokens.
      if (MessageDigest.isEqual(presented, HexFormat.of().parseHex(e.getKey()))) {
        found = e.getValue();
      }
    }
    return Optional.ofNullable(found);
  }

  /** A new random token (256 bits, URL-safe). */
  public static String newToken() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return "sk-skein-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  public static String sha256(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "ApiTokens" + new ArrayList<>(holders.values());
  }
}
