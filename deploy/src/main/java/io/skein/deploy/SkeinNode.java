package io.skein.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.skein.coordinator.http.ApiTokens;
import io.skein.coordinator.http.JobRoutes;
import io.skein.coordinator.job.ClusterWatch;
import io.skein.coordinator.job.InFlightShares;
import io.skein.coordinator.job.JobCoordinator;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.BatchingResultSink;
import io.skein.coordinator.store.JdbcResponseCache;
import io.skein.coordinator.store.JdbcRecordSource;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.SkeinDb;
import io.skein.deploy.sim.ModelSimulator;
import io.skein.deploy.sim.SimulatorSettings;
import io.skein.worker.entity.CallTimer;
import io.skein.worker.entity.Preview;
import io.skein.worker.entity.RecordMeters;
import io.skein.worker.entity.RecordWorker;
import io.skein.worker.gateway.ModelProviders;
import io.skein.worker.gateway.OpenAiHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Skein node: an actor system in a cluster (of one, unless seeds are given), the journal and
 * Skein's tables on H2 or PostgreSQL (schemas created on first start), the built-in simulator for
 * models no provider serves, the shard regions for jobs and records, and optionally the HTTP API.
 */
public final class SkeinNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SkeinNode.class);

  private final ActorSystem<Void> system;
  private final SkeinDb db;
  private final BatchingResultSink sink;
  private final JdbcResponseCache cache;
  private final JobService jobs;
  private final ModelSimulator simulator;
  private final ServerBinding binding;
  private final DiskWatch disk;
  private final NodeMetrics metrics;

  private SkeinNode(ActorSystem<Void> system, SkeinDb db, BatchingResultSink sink, JdbcResponseCache cache, JobService jobs,
      ModelSimulator simulator, ServerBinding binding, DiskWatch disk, NodeMetrics metrics) {
    this.metrics = metrics;
    this.disk = disk;
    this.system = system;
    this.db = db;
    this.sink = sink;
    this.cache = cache;
    this.jobs = jobs;
    this.simulator = simulator;
    this.binding = binding;
  }

  public static SkeinNode start(NodeOptions options) throws Exception {
    return start(options, CallTimer.NONE);
  }

  /** Starts a node whose records report each call's time in Skein to {@code timer}. */
  public static SkeinNode start(NodeOptions options, CallTimer timer) throws Exception {
    Files.createDirectories(options.dataDir());
    Config config = config(options);
    Config skein = config.getConfig("skein");
    // The database first: it creates the journal's tables and Skein's, and names the cluster role
    // that keeps this node out of clusters on another database.
    DiskWatch disk = h2Directory(skein.getString("db.url"))
        .map(dir -> new DiskWatch(dir, skein.getBytes("db.min-free-disk")))
        .orElse(new DiskWatch(options.dataDir(), 0));
    String short_ = disk.check();
    if (short_ != null) {
      throw new IllegalStateException(short_);
    }
    SkeinDb db = SkeinDb.open(skein.getString("db.url"), blankToNull(skein.getString("db.user")),
        blankToNull(skein.getString("db.password")), skein.getInt("db.pool-size"));
    java.util.List<String> roles = new java.util.ArrayList<>(config.getStringList("pekko.cluster.roles"));
    roles.add(ClusterWatch.databaseRole(db.databaseId()));
    config = ConfigFactory.parseMap(Map.of("pekko.cluster.roles", roles, io.skein.coordinator.job.DatabaseJoinCheck.KEY, db.databaseId()))
        .withFallback(config);
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), "skein", config);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
    try {
      explainRefusals(system);
      // A statfs every 250 ms: a fast writer fills megabytes a second, and the margin must outlast the gap.
      disk.start(system, Duration.ofMillis(250));
      ClusterJoin.start(system, config);
      JobStore store = new JobStore(db);

      ModelSimulator simulator = null;
      Config sim = skein.getConfig("simulator");
      if (options.embeddedSimulator() && sim.getBoolean("embedded")) {
        simulator = ModelSimulator.start(system, simulatorSettings(sim), "127.0.0.1", 0)
            .toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      String simulatorUrl = simulator == null ? "" : simulator.baseUrl();
      NodeMetrics metrics = new NodeMetrics(system.address().hostPort());
      JdbcResponseCache cache = new JdbcResponseCache(db, metrics.registry());
      ModelProviders models = new ModelProviders(system, new OpenAiHttpClient(system), SkeinNode::env, simulatorUrl, cache,
          metrics.registry());

      io.skein.worker.tools.McpTools tools = new io.skein.worker.tools.McpTools(skein.getConfig("tools"), SkeinNode::env,
          metrics.registry());
      JdbcRecordSource source = new JdbcRecordSource(store);
      BatchingResultSink sink = new BatchingResultSink(store, metrics.registry());
      RecordWorker.init(system, new RecordWorker.Deps(source, sink, models, skein.getDuration("record.stop-timeout"),
          new CallMeters(metrics.registry(), timer),
          skein.getDuration("record.call-deadline"), skein.getDuration("record.call-grace"), new RecordMeters(metrics.registry()),
          new io.skein.coordinator.store.JdbcDeduper(db), tools, models.prices()));
      InFlightShares shares = new InFlightShares(skein.getInt("job.max-records-in-flight-per-node"), io.skein.worker.gateway.TenantRates.caps(skein.getConfig("tenants"), "max-in-flight"));
      JobCoordinator.init(system, new JobCoordinator.Deps(store, source::evict, skein.getDuration("job.tick"),
          skein.getDuration("job.ensure-interval"), skein.getInt("job.pause-after-blocked"), shares,
          new io.skein.coordinator.job.StageFeeder(store), skein.getInt("job.max-starting")));
      JobService jobs = new JobService(system, store, new Preview(system, models, skein.getDuration("preview.call-timeout"), tools), models,
          tools);
      io.skein.coordinator.job.RetentionSweep.start(system, jobs.retention(), skein.getConfig("retention"));
      system.systemActorOf(ClusterWatch.create(jobs, models::clusterSize, skein.getDuration("job.ensure-interval"), shares,
              skein.getDuration("job.tick")),
          "cluster-watch", org.apache.pekko.actor.typed.Props.empty());

      system.systemActorOf(io.skein.coordinator.http.NodeGateways.create(models::stats), "node-gateways",
          org.apache.pekko.actor.typed.Props.empty());

      if (!io.skein.worker.step.StepKinds.plugins().isEmpty()) {
        log.info("step kinds from plugins: {}", io.skein.worker.step.StepKinds.plugins().stream()
            .map(k -> k.name() + " (" + k.getClass().getName() + ")").toList());
      }
      ServerBinding binding = null;
      if (options.httpPort() != null) {
        ApiTokens tokens = ApiTokens.from(skein.getConfig("http.auth"), SkeinNode::env);
        String httpHost = skein.getString("http.host").isBlank() ? options.host() : skein.getString("http.host");
        boolean beyond = !java.net.InetAddress.getByName(httpHost).isLoopbackAddress();
        String why = authRefusal(skein.getString("http.auth.required"), beyond, tokens.required(), httpHost);
        if (why != null) {
          throw new IllegalStateException(why);
        }
        binding = Http.get(system).newServerAt(httpHost, options.httpPort())
            .bind(new JobRoutes(system, jobs, models::stats, tokens).route(metrics.route()))
            .toCompletableFuture().get(30, TimeUnit.SECONDS);
        binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
        log.info("Skein node listening on http://{}:{}", httpHost, binding.localAddress().getPort());
        if (tokens.required()) {
          log.info("the HTTP API asks for a bearer token ({} configured)", tokens);
        } else if (beyond) {
          log.warn("the HTTP API listens on {}, beyond this machine, and asks no credentials (skein.http.auth.required = off):"
              + " anyone who reaches it may run and read every job; set skein.http.auth.tokens or SKEIN_API_TOKENS, or keep it"
              + " behind a firewall or proxy", httpHost);
        }
      }
      SkeinNode node = new SkeinNode(system, db, sink, cache, jobs, simulator, binding, disk, metrics);
      // Flush the ledger and cache writers before the system goes (the JVM may exit right after).
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "skein-flush-writers",
          () -> CompletableFuture.runAsync(() -> {
            sink.close();
            cache.close();
          }).thenApply(done -> Done.getInstance()));
      // MCP servers started for tools (child processes) end with the node.
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "skein-close-tools",
          () -> CompletableFuture.runAsync(tools::close).thenApply(done -> Done.getInstance()));
      // Close the client pools before the actors go, or each still-open pool logs "shut down unexpectedly" with a trace.
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "skein-close-pools",
          () -> Http.get(system).shutdownAllConnectionPools().thenApply(done -> Done.getInstance()));
      List<String> resumed = jobs.resumeRunning().toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (!resumed.isEmpty()) {
        log.info("resuming {} running job(s): {}", resumed.size(), resumed);
      }
      ServingCheck.set(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system), true);
      // Not ready once it drains: Kubernetes stops sending requests before the HTTP API unbinds.
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "skein-not-ready",
          () -> {
            ServingCheck.set(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system), false);
            return CompletableFuture.completedFuture(Done.getInstance());
          });
      return node;
    } catch (Exception e) {
      system.terminate();
      db.close();
      throw e;
    }
  }

  /**
   * An H2 URL that commits to disk at once: H2's default WRITE_DELAY keeps the last half second of
   * commits in memory, and a SIGKILL would lose answers already journaled. Added when absent; any
   * other value is refused.
   */
  static String durableH2(String url) {
    java.util.regex.Matcher delay = java.util.regex.Pattern.compile("(?i);WRITE_DELAY=([^;]*)").matcher(url);
    if (!delay.find()) {
      return url + ";WRITE_DELAY=0";
    }
    if (!delay.group(1).strip().equals("0")) {
      throw new IllegalArgumentException("the H2 URL sets WRITE_DELAY=" + delay.group(1) + ": Skein needs WRITE_DELAY=0, or a crash"
          + " loses calls it has already journaled (leave it out and Skein adds it)");
    }
    return url;
  }

  /** A node the cluster refused at the join (another database, most likely) says so before it stops. */
  private static void explainRefusals(ActorSystem<Void> system) {
    org.apache.pekko.actor.CoordinatedShutdown shutdown = org.apache.pekko.actor.CoordinatedShutdown.get(system);
    shutdown.addTask(org.apache.pekko.actor.CoordinatedShutdown.PhaseBeforeServiceUnbind(), "skein-explain-refusal", () -> {
      if (shutdown.getShutdownReason().filter(r -> r.equals(
          org.apache.pekko.actor.CoordinatedShutdown.incompatibleConfigurationDetectedReason())).isPresent()) {
        log.error("refusing to join a cluster on another database: the cluster refused this node's configuration"
            + " (skein.cluster.database differs: check --db-url); this node stops");
      }
      return java.util.concurrent.CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance());
    });
  }

  static Config config(NodeOptions options) {
    Map<String, Object> overrides = new HashMap<>(options.settings());
    String url = firstNonBlank(options.dbUrl(), env("SKEIN_DB_URL"));
    String user = firstNonBlank(options.dbUser(), env("SKEIN_DB_USER"));
    String password = firstNonBlank(options.dbPassword(), env("SKEIN_DB_PASSWORD"));
    if (url == null) {
      Path file = options.dataDir().toAbsolutePath().resolve("skein");
      url = "jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
    }
    boolean postgres = url.startsWith("jdbc:postgresql:");
    if (!postgres && !url.startsWith("jdbc:h2:")) {
      throw new IllegalArgumentException("unsupported database URL " + NodeOptions.redactUrl(url) + ": use jdbc:postgresql://... or jdbc:h2:...");
    }
    if (!postgres) {
      url = durableH2(url);
    }
    if (postgres && !url.contains("reWriteBatchedInserts")) {
      url = url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true";
    }
    overrides.put("skein.db.url", url);
    overrides.put("skein.db.user", user == null ? (postgres ? "postgres" : "") : user);
    overrides.put("skein.db.password", password == null ? "" : password);
    overrides.put("skein.db.driver", postgres ? "org.postgresql.Driver" : "org.h2.Driver");
    overrides.put("skein.db.profile", postgres ? "slick.jdbc.PostgresProfile$" : "slick.jdbc.H2Profile$");
    overrides.put("pekko.remote.artery.canonical.hostname", options.host());
    overrides.put("pekko.remote.artery.canonical.port", options.port());
    if (!options.seeds().isEmpty()) {
      overrides.put("pekko.cluster.seed-nodes", options.seeds().stream()
          .map(s -> s.startsWith("pekko://") ? s : "pekko://skein@" + s).toList());
    }
    Config base = ConfigFactory.parseMap(overrides);
    if (options.configFile() != null) {
      if (!Files.isReadable(options.configFile())) {
        throw new IllegalArgumentException("cannot read config file " + options.configFile());
      }
      base = base.withFallback(ConfigFactory.parseFile(options.configFile().toFile()));
    }
    // Resolved only now, so ${skein.db.url} and friends in the bundled files see these values.
    return ClusterJoin.settle(sizedForRecordsInFlight(ConfigFactory.load(base.withFallback(ConfigFactory.parseResourcesAnySyntax("application")))),
        options.host());
  }

  /**
   * The journal's write queue holds a persist of every record this node may have in flight (and
   * its coordinators'), and an entity's stash the reports of as many records (a coordinator stashes
   * them while it persists): a node configured for more records than these hold would fail persists
   * with "queue buffer was full" and drop records' reports under load.
   */
  static Config sizedForRecordsInFlight(Config config) {
    int records = config.getInt("skein.job.max-records-in-flight-per-node");
    Map<String, Object> sizes = new java.util.HashMap<>();
    if (config.getInt("jdbc-journal.bufferSize") < records + 1000) {
      sizes.put("jdbc-journal.bufferSize", records + 1000);
    }
    if (config.getInt("pekko.persistence.typed.stash-capacity") < 2 * records) {
      sizes.put("pekko.persistence.typed.stash-capacity", 2 * records);
    }
    return sizes.isEmpty() ? config : ConfigFactory.parseMap(sizes).withFallback(config);
  }

  private static SimulatorSettings simulatorSettings(Config sim) {
    return new SimulatorSettings(sim.getDuration("latency").toMillis(), sim.getDouble("jitter"),
        sim.getDouble("error-rate"), sim.getDouble("rate-limit-rate"), sim.getDouble("slow-rate"), sim.getLong("seed"), 1, null,
        sim.getInt("max-concurrent"), new SimulatorSettings.Answers(sim.getDouble("bad-json-rate"), sim.getDouble("bad-code-rate"),
        sim.getBoolean("reasoning"), sim.getInt("tool-rounds")), sim.hasPath("broken-rate") ? sim.getDouble("broken-rate") : 0.0)
        .withRateLimits(sim.hasPath("requests-per-minute") ? sim.getInt("requests-per-minute") : 0,
            sim.hasPath("tokens-per-minute") ? sim.getLong("tokens-per-minute") : 0);
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public JobService jobs() {
    return jobs;
  }

  public JobStore store() {
    return jobs.store();
  }

  public ModelSimulator simulator() {
    return simulator;
  }

  /** Why this node stopped on its own (its disk ran short), or null. */
  public String stoppedBecause() {
    return disk.stopped();
  }

  /** The directory of an embedded H2 database's files, for {@code jdbc:h2:file:} URLs. */
  static java.util.Optional<Path> h2Directory(String url) {
    if (!url.startsWith("jdbc:h2:file:")) {
      return java.util.Optional.empty();
    }
    String file = url.substring("jdbc:h2:file:".length());
    int options = file.indexOf(';');
    Path path = Path.of(options < 0 ? file : file.substring(0, options)).toAbsolutePath();
    return java.util.Optional.ofNullable(path.getParent());
  }

  public int httpPort() {
    return binding == null ? -1 : binding.localAddress().getPort();
  }

  /** Blocks until the actor system terminates (SIGTERM runs coordinated shutdown). */
  public void awaitTermination() throws Exception {
    system.getWhenTerminated().toCompletableFuture().get();
    closeResources();
  }

  @Override
  public void close() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    closeResources();
  }

  private void closeResources() {
    metrics.close();
    sink.close();
    cache.close();
    db.close();
  }

  static String env(String name) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? null : v;
  }

  private static String firstNonBlank(String a, String b) {
    return a != null && !a.isBlank() ? a : b;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /**
   * Why a node may not serve its HTTP API as configured, or null: {@code required} ({@code
   * skein.http.auth.required}) is {@code on}, or {@code auto} and the API listens beyond this machine,
   * and no token is configured, so it would answer nobody, or everybody.
   */
  static String authRefusal(String required, boolean beyond, boolean hasTokens, String host) {
    if (!java.util.Set.of("auto", "on", "off").contains(required)) {
      return "skein.http.auth.required must be auto, on or off, got `" + required + "`";
    }
    boolean asks = required.equals("on") || required.equals("auto") && beyond;
    if (!asks || hasTokens) {
      return null;
    }
    return "the HTTP API " + (beyond ? "listens on " + host + ", beyond this machine," : "must ask for tokens (skein.http.auth.required = on)")
        + " and has no token to ask for: give it tokens (skein.http.auth.tokens, or SKEIN_API_TOKENS; `skein tokens new` makes one),"
        + " or run it open on purpose with skein.http.auth.required = off (SKEIN_AUTH=off)";
  }
}
