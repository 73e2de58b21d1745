package io.skein.worker.gateway;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Binds model names to providers from {@code skein.models} in the server's config. A name listed
 * under {@code providers} uses that entry; otherwise {@code OPENAI_BASE_URL} (with
 * {@code OPENAI_API_KEY}) is the default provider, as with the OpenAI SDKs; otherwise the built-in
 * simulator serves {@code sim-*} names (every name with {@code simulate-all}), and any other name is
 * refused: a misspelled model must not quietly get made-up answers. One {@link ModelGateway} per model name, started on first use, taking
 * this node's share of the provider's limits (see {@link #clusterSize}).
 */
public final class ModelProviders implements ModelAccess {

  private final ActorSystem<?> system;
  private final ModelClient client;
  private final Config config;
  private final Function<String, String> env;
  private final Map<String, Provider> providers = new ConcurrentHashMap<>();
  private final Map<String, ActorRef<ModelGateway.Command>> gateways = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong spawned = new java.util.concurrent.atomic.AtomicLong();
  private final ModelGateway.Settings gatewaySettings;
  private volatile int members = 1;

  private final String simulatorUrl;
  private final ResponseCache cache;
  private final boolean caching;
  private final MeterRegistry registry;
  /** Per model, outliving its gateways: a restarted or re-started gateway counts on. */
  private final Map<String, GatewayMeters> meters = new ConcurrentHashMap<>();
  private final Prices prices;
  /** Each tenant's cap on requests per minute, shared by this node's gateways. */
  private final TenantRates tenantRates;

  /** {@code simulatorUrl}: the built-in simulator's base URL when this node runs one, else blank. */
  public ModelProviders(ActorSystem<?> system, ModelClient client, Function<String, String> env, String simulatorUrl) {
    this(system, client, env, simulatorUrl, ResponseCache.NONE);
  }

  public ModelProviders(ActorSystem<?> system, ModelClient client, Function<String, String> env, String simulatorUrl,
      ResponseCache cache) {
    this(system, client, env, simulatorUrl, cache, new CompositeMeterRegistry());
  }

  /** {@code registry}: where each model's {@link GatewayMeters} go. */
  public ModelProviders(ActorSystem<?> system, ModelClient client, Function<String, String> env, String simulatorUrl,
      ResponseCache cache, MeterRegistry registry) {
    this.system = system;
    this.registry = registry;
    this.cache = cache;
    this.client = client;
    this.env = env;
    this.config = system.settings().config().getConfig("skein.models");
    this.simulatorUrl = simulatorUrl == null || simulatorUrl.isBlank() ? config.getString("simulator-url") : simulatorUrl;
    Config breaker = config.getConfig("circuit-breaker");
    this.gatewaySettings = new ModelGateway.Settings(
        breaker.getInt("max-failures"), breaker.getDuration("open-for"), config.getInt("max-queued-calls"),
        config.hasPath("gateway-idle-timeout") ? config.getDuration("gateway-idle-timeout") : Duration.ofMinutes(10),
        system.settings().config().getInt("skein.http-client.max-connections"));
    this.caching = cache != ResponseCache.NONE && config.getBoolean("cache");
    this.prices = system.settings().config().hasPath("skein.prices") ? Prices.from(system.settings().config().getConfig("skein.prices"))
        : Prices.NONE;
    this.tenantRates = system.settings().config().hasPath("skein.tenants")
        ? TenantRates.from(system.settings().config().getConfig("skein.tenants")) : TenantRates.NONE;
  }

  /** What models cost, from {@code skein.prices}. */
  @Override
  public Prices prices() {
    return prices;
  }

  @Override
  public boolean caching() {
    return caching;
  }

  @Override
  public Provider provider(String model) {
    return providers.computeIfAbsent(model, this::resolve);
  }

  @Override
  public ActorRef<ModelGateway.Command> gateway(String model) {
    // Supervised: a gateway that fails restarts with its limits and an empty queue; the records whose
    // calls it held withdraw and resend them when their own deadline passes.
    // An idle gateway stops and leaves the map (with its provider): a node keeps gateways for the models in use only.
    return gateways.computeIfAbsent(model, m -> system.systemActorOf(
        Behaviors.supervise(ModelGateway.create(provider(m), client, gatewaySettings, members, cache, () -> {
              gateways.remove(m);
              providers.remove(m);
            }, meters.computeIfAbsent(m, name -> new GatewayMeters(registry, name, prices)), tenantRates))
            .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(100), Duration.ofSeconds(10), 0.2)),
        "model-gateway-" + java.net.URLEncoder.encode(m, java.nio.charset.StandardCharsets.UTF_8).replace('%', '_') + "-"
            + spawned.incrementAndGet(),
        Props.empty()));
  }

  /** How each of this node's gateways stands now: its share of the limit, the adapted limit, calls in flight and waiting. */
  public CompletionStage<List<ModelGateway.Stats>> stats() {
    List<CompletableFuture<ModelGateway.Stats>> asks = new ArrayList<>();
    for (ActorRef<ModelGateway.Command> g : gateways.values()) {
      asks.add(AskPattern.<ModelGateway.Command, ModelGateway.Stats>ask(g, ModelGateway.GetStats::new, Duration.ofSeconds(5),
          system.scheduler()).toCompletableFuture());
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(done -> {
      List<ModelGateway.Stats> out = new ArrayList<>();
      asks.forEach(a -> out.add(a.join()));
      out.sort(java.util.Comparator.comparing(ModelGateway.Stats::model));
      return out;
    });
  }

  /**
   * The cluster now has {@code upMembers} up members: every gateway takes that share of its
   * provider's limits, so the limits hold for the whole cluster.
   */
  public void clusterSize(int upMembers) {
    members = Math.max(1, upMembers);
    tenantRates.clusterSize(members);
    gateways.values().forEach(g -> g.tell(new ModelGateway.Resize(members)));
  }

  private Provider resolve(String model) {
    int concurrency = config.getInt("default-max-concurrency");
    Duration timeout = config.getDuration("default-request-timeout");
    String path = "providers." + ConfigUtil.quoteString(model);
    if (config.hasPath(path)) {
      Config p = config.getConfig(path);
      String where = "skein.models." + path;
      String served = p.hasPath("model") ? p.getString("model") : model;
      boolean schemaInPrompt = p.hasPath("structured-output") && p.getString("structured-output").equals("prompt");
      if (p.hasPath("endpoints")) {
        List<Endpoint> endpoints = endpoints(model, p, where, served, concurrency, timeout);
        // The model's name stands for its servers: fingerprints and cache keys do not name any one of them.
        String scope = "endpoints:" + model;
        Provider first = endpoints.get(0).target();
        return new Provider(model, scope, null, served, first.maxConcurrency(), first.requestTimeout(), 0, 0, schemaInPrompt, scope,
            endpoints);
      }
      String base = checkedUrl(p.getString("base-url"), where + ".base-url");
      return server(model, base, p, served, concurrency, timeout, schemaInPrompt);
    }
    String base = env.apply("OPENAI_BASE_URL");
    if (base != null && !base.isBlank()) {
      return new Provider(model, checkedUrl(base, "OPENAI_BASE_URL"), "OPENAI_API_KEY", model, concurrency, timeout);
    }
    if (!simulatorUrl.isBlank() && (model.startsWith(SIMULATED_PREFIX) || config.getBoolean("simulate-all"))) {
      return new Provider(model, simulatorUrl, null, model, concurrency, timeout, 0, 0, false, Provider.SIMULATOR);
    }
    throw new IllegalArgumentException("no provider serves model `" + model + "`: add skein.models.providers.\"" + model
        + "\" to the server's config, or set OPENAI_BASE_URL (and OPENAI_API_KEY)"
        + (simulatorUrl.isBlank() ? "" : "; the built-in simulator serves `" + SIMULATED_PREFIX + "*` names (all names with skein.models.simulate-all = on)"));
  }

  /** One server's provider: {@code c}'s keys, or the model's where {@code c} has none. */
  private static Provider server(String model, String base, Config c, String served, int concurrency, Duration timeout,
      boolean schemaInPrompt) {
    return new Provider(
        model,
        base,
        c.hasPath("api-key-env") ? c.getString("api-key-env") : null,
        served,
        c.hasPath("max-concurrency") ? c.getInt("max-concurrency") : concurrency,
        c.hasPath("request-timeout") ? c.getDuration("request-timeout") : timeout,
        c.hasPath("requests-per-minute") ? c.getLong("requests-per-minute") : 0,
        c.hasPath("tokens-per-minute") ? c.getLong("tokens-per-minute") : 0,
        schemaInPrompt,
        base);
  }

  /**
   * {@code endpoints = [{base-url, name, weight, model, api-key-env, max-concurrency, request-timeout,
   * requests-per-minute, tokens-per-minute}, ...]}: each server's own keys, the model entry's
   * otherwise (so {@code max-concurrency} there is each server's), names unique.
   */
  private static List<Endpoint> endpoints(String model, Config p, String where, String served, int concurrency, Duration timeout) {
    List<? extends Config> list = p.getConfigList("endpoints");
    if (list.isEmpty()) {
      throw new IllegalArgumentException(where + ".endpoints is empty: list the servers that serve `" + model + "`");
    }
    Config inherited = p.withoutPath("endpoints").withoutPath("base-url");
    List<Endpoint> out = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      Config e = list.get(i).withFallback(inherited);
      String at = where + ".endpoints[" + i + "]";
      if (!e.hasPath("base-url")) {
        throw new IllegalArgumentException(at + " has no base-url");
      }
      String base = checkedUrl(e.getString("base-url"), at + ".base-url");
      String name = list.get(i).hasPath("name") ? list.get(i).getString("name") : Endpoint.nameOf(base);
      if (!names.add(name)) {
        throw new IllegalArgumentException(at + ": another endpoint is named `" + name + "`; give each a distinct name");
      }
      double weight = e.hasPath("weight") ? e.getDouble("weight") : 1;
      if (!(weight > 0)) {
        throw new IllegalArgumentException(at + ".weight must be above 0, not " + weight);
      }
      out.add(new Endpoint(name, server(model, base, e, e.hasPath("model") ? e.getString("model") : served, concurrency, timeout, false),
          weight));
    }
    return out;
  }

  /** Model names the built-in simulator serves without being asked to serve every name. */
  public static final String SIMULATED_PREFIX = "sim-";

  private static String checkedUrl(String url, String where) {
    try {
      java.net.URI uri = new java.net.URI(url);
      if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
        return url;
      }
    } catch (java.net.URISyntaxException e) {
      // said below
    }
    throw new IllegalArgumentException(where + " `" + url + "` is not an http(s) URL with a host");
  }
}
