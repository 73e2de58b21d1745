package io.skein.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.JobInfo;
import io.skein.deploy.NodeOptions;
import io.skein.deploy.SkeinNode;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import io.skein.worker.plan.PipelinePlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Skein node in the test's own JVM, for the authors of step kinds written in Java: embedded H2 in
 * a temporary directory and the built-in model simulator, no network. A kind on the test classpath
 * (the plugin's own, listed in its {@code META-INF/services/io.skein.worker.step.StepKind}) is
 * there, as on a node started with {@code --plugins}. Jobs run as anywhere else: every model call
 * goes through the gateway and is an event, so what passes here passes on a cluster.
 *
 * <pre>{@code
 * try (SkeinTestKit skein = SkeinTestKit.start()) {
 *   JobRun run = skein.run(spec, List.of(Map.of("topic", "tides")));
 *   assertEquals(1, run.rows().size(), run.toString());
 * }
 * }</pre>
 */
public final class SkeinTestKit implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration POLL = Duration.ofMillis(50);

  private final Path dir;
  private final SkeinNode node;

  private SkeinTestKit(Path dir, SkeinNode node) {
    this.dir = dir;
    this.node = node;
  }

  /** A node whose simulator answers in about a millisecond. */
  public static SkeinTestKit start() throws Exception {
    return start(Map.of());
  }

  /**
   * A node with these settings (HOCON paths over Skein's defaults), e.g.
   * {@code skein.simulator.error-rate = 0.2} to see how a kind fares when calls fail and are retried.
   */
  public static SkeinTestKit start(Map<String, Object> settings) throws Exception {
    Path dir = Files.createTempDirectory("skein-testkit");
    Map<String, Object> all = new java.util.HashMap<>(Map.of("skein.simulator.latency", "1ms", "skein.tools.allow-spec-commands", true));
    all.putAll(settings);
    return new SkeinTestKit(dir, SkeinNode.start(NodeOptions.local(dir.resolve("data")).withSettings(all)));
  }

  /** What is wrong with {@code spec} (YAML or JSON), each as {@code path: message}; empty when it would run. */
  public List<String> problems(String spec) {
    try {
      PipelinePlan.compile(SpecParser.parse(spec), Set.of());
      return List.of();
    } catch (SpecException e) {
      return e.errors().stream().map(SpecError::toString).toList();
    }
  }

  /** Runs {@code spec} on its own input ({@code input.records} or {@code input.num_records}), within two minutes. */
  public JobRun run(String spec) throws Exception {
    return run(spec, null, Duration.ofMinutes(2));
  }

  /** Runs {@code spec} on these records (they take the place of its input), within two minutes. */
  public JobRun run(String spec, List<? extends Map<String, ?>> records) throws Exception {
    return run(spec, records, Duration.ofMinutes(2));
  }

  /**
   * Runs a job to its end and returns its rows. Throws {@link SpecException} (with every problem) for
   * a spec that cannot run, and {@link AssertionError} if the job has not ended within {@code timeout}.
   */
  public JobRun run(String spec, List<? extends Map<String, ?>> records, Duration timeout) throws Exception {
    ObjectNode tree = (ObjectNode) SpecParser.readTree(spec);
    if (records != null) {
      ObjectNode input = JSON.createObjectNode();
      ArrayNode rows = input.putArray("records");
      records.forEach(r -> rows.add(JSON.valueToTree(r)));
      tree.set("input", input);
    }
    JobInfo job;
    try {
      job = node.jobs().submit(new JobService.Submission(tree, null, null, null)).toCompletableFuture().get(1, TimeUnit.MINUTES);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof SpecException bad) {
        throw bad;
      }
      throw e;
    }
    JobInfo done = awaitEnd(job.id(), timeout);
    return new JobRun(done.id(), done.state().wireName(), rows(done.id(), true), rows(done.id(), false), done.counts().calls(),
        done.counts().tokens());
  }

  private JobInfo awaitEnd(String id, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JobInfo job = node.store().job(id).toCompletableFuture().get(30, TimeUnit.SECONDS).orElseThrow();
      if (job.state().isTerminal() || job.state() == JobState.PAUSED) {
        return job;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + id + " did not end within " + timeout + ": " + job.counts().done() + " of "
            + job.total() + " records done");
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  private List<ObjectNode> rows(String jobId, boolean ok) throws Exception {
    List<ObjectNode> rows = new ArrayList<>();
    JobService.RowsReader reader = new JobService.RowsReader(node.store(), jobId, ok, false);
    for (List<String> page = reader.next(); !page.isEmpty(); page = reader.next()) {
      for (String line : page) {
        rows.add((ObjectNode) JSON.readTree(line));
      }
    }
    return List.copyOf(rows);
  }

  /** Requests the simulator has answered so far (each attempt of each call), to check what a kind sends. */
  public long simulatorRequests() {
    return node.simulator().stats().requests();
  }

  @Override
  public void close() throws Exception {
    try {
      node.close();
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * A finished job: its state ({@code succeeded}, {@code failed}, {@code paused}), its output rows and
   * error rows as JSON objects, and the model calls and tokens it took.
   */
  public record JobRun(String id, String state, List<ObjectNode> rows, List<ObjectNode> errors, long calls, long tokens) {

    /** The values of {@code field} in the output rows, in order. */
    public List<JsonNode> column(String field) {
      return rows.stream().map(r -> r.path(field)).toList();
    }

    @Override
    public String toString() {
      return "job " + id + " " + state + ": " + rows.size() + " rows, " + errors.size() + " error rows " + errors + ", " + calls
          + " calls";
    }
  }
}
