package io.skein.coordinator.http;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The bearer tokens the HTTP API accepts, kept as SHA-256 hashes only: from
 * {@code skein.http.auth.tokens} ({@code [{name = ci, sha256 = "...", tenant = team-a}]}, as
 * {@code skein tokens new} prints them), from {@code SKEIN_API_TOKENS} (comma-separated tokens, such
 * as a Kubernetes Secret holds; named {@code env-1}, {@code env-2}..., admins) and, once some are
 * configured, from the tokens an admin makes at run time ({@link TokenTable}, read through a cache of
 * {@link #CACHE_TTL}). A token with a {@code tenant} sees that tenant's jobs, files and batches only;
 * one without (or with {@code admin = true}) sees everything. None configured: the API asks no
 * credentials. A presented token is hashed and compared in constant time; neither tokens nor hashes
 * are ever printed ({@link #toString} names the holders).
 */
public final class ApiTokens {

  /** Shorter tokens are refused at startup: a guessable token is no token. */
  public static final int MIN_LENGTH = 16;

  public static final ApiTokens NONE = new ApiTokens(Map.of(), true, null);

  /** How long a token looked up in the table is trusted (or refused) before it is looked up again: a revoked token stops within it. */
  public static final java.time.Duration CACHE_TTL = java.time.Duration.ofSeconds(5);
  private static final int CACHE_MAX = 10_000;

  /** Token hash → its holder. */
  private final Map<String, Caller> holders;
  private final boolean metricsOpen;
  /** Tokens made at run time; null: none are read. */
  private final io.skein.coordinator.store.TokenTable table;
  private final java.util.concurrent.ConcurrentHashMap<String, Cached> cache = new java.util.concurrent.ConcurrentHashMap<>();

  private record Cached(Optional<Caller> caller, long until) {}

  private ApiTokens(Map<String, Caller> holders, boolean metricsOpen, io.skein.coordinator.store.TokenTable table) {
    this.holders = holders;
    this.metricsOpen = metricsOpen;
    this.table = table;
  }

  /** These tokens and those of {@code table}. */
  public ApiTokens withTable(io.skein.coordinator.store.TokenTable tokens) {
    return new ApiTokens(holders, metricsOpen, tokens);
  }

  public io.skein.coordinator.store.TokenTable table() {
    return table;
  }

  /** From {@code auth} ({@code skein.http.auth}) and the environment; a bad entry fails, saying which. */
  public static ApiTokens from(Config auth, Function<String, String> env) {
    Map<String, Caller> holders = new LinkedHashMap<>();
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
      String tenant = entry.hasPath("tenant") ? entry.getString("tenant") : null;
      boolean admin = entry.hasPath("admin") ? entry.getBoolean("admin") : tenant == null;
      if (!admin && tenant == null) {
        throw new IllegalArgumentException(where + ": a token with admin = false needs a `tenant`");
      }
      holders.put(hash, new Caller(entry.getString("name"), tenant, admin));
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
        holders.put(sha256(t), new Caller("env-" + n, null, true));
      }
    }
    return new ApiTokens(java.util.Collections.unmodifiableMap(holders), auth.getBoolean("metrics-open"), null);
  }

  /** Whether the API asks for a token at all. */
  public boolean required() {
    return !holders.isEmpty();
  }

  /** Whether {@code /metrics} answers without a token (for Prometheus scrapes inside the cluster). */
  public boolean metricsOpen() {
    return metricsOpen;
  }

  /** The holder of the configured token an {@code Authorization} header carries, if it is one of them. */
  public Optional<String> holder(String authorization) {
    return configured(authorization).map(Caller::name);
  }

  private Optional<Caller> configured(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    byte[] presented = HexFormat.of().parseHex(sha256(authorization.substring(7).strip()));
    Caller found = null;
    for (Map.Entry<String, Caller> e : holders.entrySet()) {
      // Every hash compared, in constant time: how long an answer takes says nothing of the tokens.
      if (MessageDigest.isEqual(presented, HexFormat.of().parseHex(e.getKey()))) {
        found = e.getValue();
      }
    }
    return Optional.ofNullable(found);
  }

  /**
   * Who an {@code Authorization} header says is asking: a configured token's holder, else one made
   * at run time (looked up by its hash, on {@code blocking}, and cached for {@link #CACHE_TTL}); empty
   * for no token or one this server does not accept.
   */
  public java.util.concurrent.CompletionStage<Optional<Caller>> caller(String authorization, java.util.concurrent.Executor blocking) {
    Optional<Caller> found = configured(authorization);
    if (found.isPresent() || table == null || authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return java.util.concurrent.CompletableFuture.completedFuture(found);
    }
    String presented = authorization.substring(7).strip();
    if (!presented.matches("sk-skein-[A-Za-z0-9_-]{43}")) {
      // Not a token this server makes: nothing to look up.
      return java.util.concurrent.CompletableFuture.completedFuture(Optional.empty());
    }
    String hash = sha256(presented);
    Cached cached = cache.get(hash);
    if (cached != null && cached.until() > System.nanoTime()) {
      return java.util.concurrent.CompletableFuture.completedFuture(cached.caller());
    }
    return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      Optional<Caller> stored = table.find(hash).map(e -> new Caller(e.name(), e.tenant(), e.admin()));
      if (cache.size() >= CACHE_MAX) {
        long now = System.nanoTime();
        cache.values().removeIf(c -> c.until() <= now);
        if (cache.size() >= CACHE_MAX) {
          cache.clear();
        }
      }
      cache.put(hash, new Cached(stored, System.nanoTime() + CACHE_TTL.toNanos()));
      return stored;
    }, blocking);
  }

  /** Forgets what the cache holds (a token was revoked on this node). */
  public void forget() {
    cache.clear();
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
    return "ApiTokens" + holders.values().stream().map(Caller::name).toList();
  }
}
