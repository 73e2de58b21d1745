package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.JobInfo;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.worker.entity.CallTimer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code skein bench}: runs a pipeline on one in-process node against the built-in simulator, for
 * each pipeline, database and simulator latency asked for: {@code plain} (three calls in sequence,
 * each reading the answer before it) and {@code kinds} (two samplers, a structured step whose first
 * answers are broken 20% of the time, so they are corrected, and a judge), and prints records/s,
 * calls/s, the p50/p99 time each call spends in Skein itself (planned to persisted, minus the
 * model's answer time), peak heap and this JVM's CPU per call. The simulator shares this JVM's cores unless
 * {@code --simulator-jvm}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmark a 3-call pipeline on one node against the built-in simulator; prints a table.")
final class BenchCommand implements Callable<Integer> {

  @Option(names = "--records", defaultValue = "6000", description = "Records per run (default: ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--in-flight", defaultValue = "1000", description = "Records in flight (default: ${DEFAULT-VALUE}).")
  int inFlight;

  @Option(names = "--latency-ms", split = ",", defaultValue = "0,500", description = "Simulator latencies (default: ${DEFAULT-VALUE}).")
  List<Long> latencies;

  @Option(names = "--db", split = ",", defaultValue = "h2,postgres", description = "Databases: h2, postgres (default: ${DEFAULT-VALUE}).")
  List<String> databases;

  @Option(names = "--pg-url", defaultValue = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres",
      description = "PostgreSQL for the postgres runs; each run uses a fresh schema (default: ${DEFAULT-VALUE}).")
  String pgUrl;

  @Option(names = "--warmup", defaultValue = "1000", description = "Records run first and not measured (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--pipeline", split = ",", defaultValue = "plain,kinds",
      description = "plain (3 text calls), kinds (samplers, structured with 20%% bad first answers, judge), and Data Designer configs"
          + " run as imported: dd-chat (a 4-call multi-turn chat), dd-sql (text-to-SQL: task, query, SQL check, judge)"
          + " (default: ${DEFAULT-VALUE}).")
  List<String> pipelines;

  @Option(names = "--max-concurrency", description = "Calls at once per model (Data Designer's max_parallel_requests;"
      + " default: twice --in-flight, at least 256).")
  Integer maxConcurrency;

  /** The Data Designer configs of the dd-* pipelines, in write_config's shape. */
  private static final Map<String, String> DD_CONFIGS = Map.of("dd-chat", "bench/dd_multi_turn_chat.yaml", "dd-sql", "bench/dd_text_to_sql.yaml");

  private static final String KINDS_SPEC = """
      name: bench-kinds
      seed: %d
      models:
        m: {model: sim-small, max_tokens: 60}
      max_in_flight: %d
      input: {num_records: %d}
      steps:
        - {name: category, kind: sampler, sampler: category, values: [tools, toys, books], weights: [3, 2, 1]}
        - {name: price, kind: sampler, sampler: uniform, low: 5, high: 500, convert_to: int}
        - name: product
          kind: llm-structured
          model: m
          prompt: "Invent a {{ category }} product for ${{ price }}, number {{ index }}."
          schema: {type: object, required: [name, features], properties: {name: {type: string}, features: {type: array, items: {type: string}, minItems: 2}}}
        - name: quality
          kind: llm-judge
          model: m
          prompt: "Judge this product: {{ product.name }}"
          scores: [{name: appeal, options: {1: Low, 3: Some, 5: High}}]
      """;

  private static final String SPEC = """
      name: bench
      seed: %d
      models:
        m: {model: sim-small, max_tokens: 60}
      max_in_flight: %d
      input: {num_records: %d}
      steps:
        - {name: question, model: m, prompt: "Write question {{ index }}."}
        - {name: answer, model: m, prompt: "{{ question }}"}
        - {name: verdict, model: m, prompt: "Judge this answer: {{ answer }}"}
      """;

  @Option(names = "--startup", paramLabel = "RUNS", description = "Instead: time `skein run` of a 1-record, 1-call job RUNS times,"
      + " as java -jar and as bin/skein (with the class-data-sharing archive), alternating; prints a table.")
  Integer startupRuns;

  @Option(names = "--simulator-jvm", description = "Run the simulator in a JVM of its own (java -jar skein.jar simulate),"
      + " not in the node's: the node's cores are then shared with another process, as with a real local model server.")
  boolean simulatorJvm;

  @Option(names = "--jitter", defaultValue = "0", description = "The simulator's latency spread, as a fraction of the mean:"
      + " 0 (the default) answers every call after exactly the latency, so records move in lock-step waves; 0.3 spreads"
      + " them as a model server's varied answer lengths do.")
  double jitter;

  @Option(names = "--journal-ceiling", description = "After each run, insert the job's journal events again with plain JDBC"
      + " batches (" + JournalCeiling.BATCH + " rows, " + JournalCeiling.CONNECTIONS + " connections) into a copy of the table, and"
      + " print the events/s Skein reached against that ceiling.")
  boolean journalCeiling;

  private int jobsRun;

  record Result(String pipeline, String db, long latencyMs, double jitter, int records, double seconds, long calls, long requests, double p50Ms,
      double p99Ms, double journalP50Ms, double journalP99Ms, long peakHeapMb, double cpuMsPerCall, JournalCeiling.Measured ceiling) {

    /** "500 ms", or "500 ms ± 30%" with jitter. */
    String latency() {
      return jitter == 0 ? latencyMs + " ms" : String.format(Locale.ROOT, "%d ms ± %.0f%%", latencyMs, jitter * 100);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (startupRuns != null) {
      System.out.println(StartupBench.run(startupRuns));
      return 0;
    }
    System.setProperty("SKEIN_LOG_LEVEL", "WARN");
    List<Result> results = new ArrayList<>();
    for (String pipeline : pipelines) {
      if (!pipeline.equals("plain") && !pipeline.equals("kinds") && !DD_CONFIGS.containsKey(pipeline)) {
        throw new IllegalArgumentException("unknown pipeline " + pipeline + " (plain, kinds, dd-chat, dd-sql)");
      }
      for (String db : databases) {
        for (long latency : latencies) {
          System.err.printf("bench: %s pipeline, %s, %d ms latency, %d records, %d in flight...%n", pipeline, db, latency, records, inFlight);
          results.add(run(pipeline, db, latency));
        }
      }
    }
    System.out.println(table(results));
    if (journalCeiling) {
      System.out.println();
      System.out.println(ceilingTable(results));
    }
    return 0;
  }

  private Result run(String pipeline, String db, long latencyMs) throws Exception {
    Path dir = Files.createTempDirectory("skein-bench");
    String dbUrl = null;
    String schema = null;
    if (db.equals("postgres")) {
      schema = "skein_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
      try (Connection c = DriverManager.getConnection(pgUrl); Statement s = c.createStatement()) {
        s.execute("CREATE SCHEMA " + schema);
      }
      dbUrl = pgUrl + (pgUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    } else if (!db.equals("h2")) {
      throw new IllegalArgumentException("unknown database " + db + " (h2, postgres)");
    }
    Recorder recorder = new Recorder(records * 6 + warmup * 6);
    double badJson = pipeline.equals("kinds") ? 0.2 : 0.0;
    ExternalSimulator external = simulatorJvm ? ExternalSimulator.start(latencyMs, jitter, badJson) : null;
    Map<String, Object> settings = new java.util.HashMap<>(Map.of(
        "skein.simulator.latency", latencyMs + "ms",
        "skein.simulator.jitter", jitter,
        "skein.simulator.bad-json-rate", badJson,
        "skein.models.default-max-concurrency", maxConcurrency != null ? maxConcurrency : Math.max(256, inFlight * 2),
        "skein.models.simulate-all", DD_CONFIGS.containsKey(pipeline),
        "skein.job.max-in-flight", inFlight));
    if (external != null) {
      settings.put("skein.simulator.embedded", false);
      settings.put("skein.models.simulator-url", external.baseUrl());
    }
    NodeOptions options = new NodeOptions(dir.resolve("data"), null, dbUrl, null, null, "127.0.0.1", 0, List.of(), null, true)
        .withSettings(settings);
    try (SkeinNode node = SkeinNode.start(options, recorder)) {
      java.util.function.LongSupplier answered = external != null ? external::requests : () -> node.simulator().stats().requests();
      if (warmup > 0) {
        runJob(node, spec(pipeline, warmup));
      }
      recorder.reset();
      HeapWatch heap = new HeapWatch();
      heap.start();
      long requestsBefore = answered.getAsLong();
      long cpuBefore = processCpuNanos();
      long start = System.nanoTime();
      JobInfo done = runJob(node, spec(pipeline, records));
      double seconds = (System.nanoTime() - start) / 1e9;
      double cpuMsPerCall = (processCpuNanos() - cpuBefore) / 1e6 / Math.max(1, done.counts().calls());
      heap.interrupt();
      long requests = answered.getAsLong() - requestsBefore;
      JournalCeiling.Measured ceiling = journalCeiling ? JournalCeiling.measure(node.store().db(), done.id()) : null;
      return new Result(pipeline, db, latencyMs, jitter, records, seconds, done.counts().calls(), requests,
          recorder.overhead.percentile(50), recorder.overhead.percentile(99), recorder.journaled.percentile(50),
          recorder.journaled.percentile(99), heap.peak.get() / (1024 * 1024), cpuMsPerCall, ceiling);
    } finally {
      if (external != null) {
        external.close();
      }
      if (schema != null) {
        try (Connection c = DriverManager.getConnection(pgUrl); Statement s = c.createStatement()) {
          s.execute("DROP SCHEMA " + schema + " CASCADE");
        }
      }
    }
  }

  /**
   * The pipeline's spec for {@code n} records, with a seed of its own per job: every request is new,
   * so the response cache is looked up and written but never answers (the cost a first run pays).
   * A dd-* pipeline is its Data Designer config as `skein import` converts it.
   */
  private JsonNode spec(String pipeline, int n) throws Exception {
    jobsRun++;
    if (!DD_CONFIGS.containsKey(pipeline)) {
      return new YAMLMapper().readTree(String.format(Locale.ROOT, pipeline.equals("kinds") ? KINDS_SPEC : SPEC, jobsRun, inFlight, n));
    }
    try (var in = BenchCommand.class.getResourceAsStream(DD_CONFIGS.get(pipeline))) {
      JsonNode config = new YAMLMapper().readTree(in);
      var spec = (com.fasterxml.jackson.databind.node.ObjectNode) io.skein.protocol.importer.DataDesignerImport.convert(config, pipeline, n).spec();
      return spec.put("seed", jobsRun).put("max_in_flight", inFlight);
    }
  }

  private JobInfo runJob(SkeinNode node, JsonNode spec) throws Exception {
    JobInfo job = node.jobs().submit(new JobService.Submission(spec, null, null, null)).toCompletableFuture().get(5, TimeUnit.MINUTES);
    while (true) {
      JobInfo now = node.store().job(job.id()).toCompletableFuture().get(30, TimeUnit.SECONDS).orElseThrow();
      if (now.state() == JobState.PAUSED) {
        throw new IllegalStateException("bench job paused: " + now.reason());
      }
      if (now.state().isTerminal()) {
        if (now.counts().failed() > 0) {
          throw new IllegalStateException("bench job had " + now.counts().failed() + " failed records");
        }
        return now;
      }
      Thread.sleep(20);
    }
  }

  static String table(List<Result> results) {
    StringBuilder sb = new StringBuilder();
    sb.append("| pipeline | database | model latency | records | records/s | calls/s | calls/record | requests/record"
        + " | Skein time per call p50 | p99 | answer to journal p50 | p99 | peak heap | CPU per call |\n");
    sb.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Result r : results) {
      sb.append(String.format(Locale.ROOT,
          "| %s | %s | %s | %d | %.1f | %.0f | %.2f | %.2f | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %d MiB | %.2f ms |%n",
          r.pipeline(), r.db(), r.latency(), r.records(), r.records() / r.seconds(), r.calls() / r.seconds(),
          (double) r.calls() / r.records(), (double) r.requests() / r.records(), r.p50Ms(), r.p99Ms(), r.journalP50Ms(),
          r.journalP99Ms(), r.peakHeapMb(), r.cpuMsPerCall()));
    }
    return sb.toString();
  }

  /** The events each job persisted per second, against the same events inserted with plain JDBC. */
  static String ceilingTable(List<Result> results) {
    StringBuilder sb = new StringBuilder();
    sb.append("| pipeline | database | model latency | events | events/call | Skein events/s | plain JDBC events/s (ceiling) | Skein / ceiling |\n");
    sb.append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Result r : results) {
      JournalCeiling.Measured c = r.ceiling();
      sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.2f | %.0f | %.0f | %.2f |%n", r.pipeline(), r.db(), r.latency(),
          c.events(), (double) c.events() / r.calls(), c.events() / r.seconds(), c.perSecond(), c.events() / r.seconds() / c.perSecond()));
    }
    return sb.toString();
  }

  /** Keeps every call's time in Skein, and from its answer to the journal, to compute exact percentiles. */
  static final class Recorder implements CallTimer {
    final Samples overhead;
    final Samples journaled;

    Recorder(int capacity) {
      overhead = new Samples(capacity);
      journaled = new Samples(capacity);
    }

    @Override
    public void record(String step, long overheadNanos) {
      overhead.add(overheadNanos);
    }

    @Override
    public void journaled(String step, long answerToJournalNanos) {
      journaled.add(answerToJournalNanos);
    }

    void reset() {
      overhead.reset();
      journaled.reset();
    }
  }

  /** Up to {@code capacity} durations (one long each), for exact percentiles. */
  static final class Samples {
    private final long[] samples;
    private final AtomicLong count = new AtomicLong();

    Samples(int capacity) {
      samples = new long[capacity];
    }

    void add(long nanos) {
      long i = count.getAndIncrement();
      if (i < samples.length) {
        samples[(int) i] = nanos;
      }
    }

    void reset() {
      count.set(0);
    }

    double percentile(double p) {
      int n = (int) Math.min(count.get(), samples.length);
      if (n == 0) {
        return Double.NaN;
      }
      long[] sorted = Arrays.copyOf(samples, n);
      Arrays.sort(sorted);
      int index = (int) Math.min(n - 1, Math.ceil(p / 100.0 * n) - 1);
      return sorted[Math.max(0, index)] / 1e6;
    }
  }

  /**
   * The CPU this JVM used, all its threads (the JIT's and the collector's too): per call, the one
   * figure that a busy shared machine does not blur as it blurs throughput. It includes the
   * simulator's share unless it runs in its own JVM ({@code --simulator-jvm}).
   */
  static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : 0;
  }

  /** Samples heap use every 100 ms and keeps the peak. */
  static final class HeapWatch extends Thread {
    final AtomicLong peak = new AtomicLong();
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

    HeapWatch() {
      setDaemon(true);
    }

    @Override
    public void run() {
      while (!isInterrupted()) {
        peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }
}
