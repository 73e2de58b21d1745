package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.JobInfo;
import io.skein.protocol.JobProtocol.JobState;
import io.skein.protocol.spec.PipelineSpec;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code skein run SPEC}: runs a pipeline on a local node (H2 under the data dir, the built-in
 * simulator unless a provider is configured), shows progress, and writes output and error rows as
 * JSONL when the job ends. The job is identified by its spec and input: running the same command
 * again after a crash, or after the job paused (exit code 3), resumes it instead of starting over.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Run a pipeline spec locally and write its rows as JSONL; rerun after a crash to resume.")
final class RunCommand implements Callable<Integer> {

  /** Exit code of a run whose job paused (for example on a wrong API key); rerunning resumes it. */
  static final int PAUSED_EXIT = 3;

  @Parameters(index = "0", paramLabel = "SPEC", description = "The pipeline spec (YAML or JSON).")
  Path specFile;

  @Option(names = "--input", description = "Records as JSONL (default: the spec's input).")
  Path input;

  @Option(names = "--output", description = "Where output rows go (default: <spec name>.jsonl).")
  Path output;

  @Option(names = "--errors", description = "Where error rows go (default: beside the output, <name>.errors.jsonl).")
  Path errors;

  @Option(names = "--dataset", paramLabel = "NAME=FILE",
      description = "Write a processor's dataset to FILE (repeatable; default: beside the output, <name>.<dataset>.jsonl).")
  java.util.Map<String, Path> datasets = new java.util.LinkedHashMap<>();

  @Option(names = "--stage", paramLabel = "NAME=FILE",
      description = "Write a stage's rows to FILE (repeatable; default: beside the output, <name>.<stage>.jsonl; the last stage's go to --output).")
  java.util.Map<String, Path> stageFiles = new java.util.LinkedHashMap<>();

  @Option(names = "--num-records", description = "For a Data Designer config: the records to make, as create(num_records=...)"
      + " (default: every seed row, or 10 without a seed).")
  Integer numRecords;

  @Option(names = "--limit", description = "Run only the first N records.")
  Long limit;

  enum Format { jsonl, parquet }

  @Option(names = "--format", defaultValue = "jsonl",
      description = "jsonl or parquet, for the output rows, error rows and datasets (default: ${DEFAULT-VALUE}).")
  Format format;

  @Option(names = "--annotated", description = "Write rows with their input, every call and timings.")
  boolean annotated;

  @Option(names = "--new", description = "Start a new job even if this spec and input ran before in the data dir.")
  boolean fresh;

  @Mixin
  StoreOptions store;

  @Option(names = "--http-port", paramLabel = "PORT",
      description = "Serve the HTTP API and the dashboard on 127.0.0.1:PORT while the job runs, to watch it in a browser.")
  Integer httpPort;

  @Option(names = {"-q", "--quiet"}, description = "Only errors and the final summary: no progress bar, no warnings.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    if (quiet) {
      quietLogs();
    }
    SpecFile file = SpecFile.forCommand("run", specFile, numRecords);
    if (file == null) {
      return 2;
    }
    JsonNode tree = file.tree;
    PipelineSpec spec = file.spec;
    Path inputFile = file.inputFile(input);
    if (inputFile != null && !Files.isReadable(inputFile)) {
      System.err.println("skein run: cannot read input " + inputFile);
      return 2;
    }
    PipelineSpec last = file.staged == null ? spec : file.staged.last().spec();
    List<String> unknown = datasets.keySet().stream().filter(d -> last.datasets().stream().noneMatch(p -> p.name().equals(d))
        && !(d.equals("extras") && last.target() != null)).toList();
    if (!unknown.isEmpty()) {
      System.err.println("skein run: the " + (file.staged == null ? "spec" : "last stage") + " has no dataset " + unknown + " (its datasets: "
          + last.datasets().stream().map(io.skein.protocol.spec.ProcessorSpec::name).toList() + ")");
      return 2;
    }
    List<String> stageNames = file.staged == null ? List.of() : file.staged.names();
    List<String> noStage = stageFiles.keySet().stream().filter(n -> !stageNames.contains(n)).toList();
    if (!noStage.isEmpty()) {
      System.err.println("skein run: the spec has no stage " + noStage + " (its stages: " + stageNames + ")");
      return 2;
    }
    // What the job is made of, as `skein status` will compare it: before --limit is written into the spec.
    var parts = io.skein.coordinator.job.Fingerprints.of(tree.deepCopy(), inputFingerprint(tree, inputFile), limit);
    if (limit != null && spec.target() != null) {
      System.err.println("skein run: --limit: a spec with `target` runs records until that many pass; max_records bounds it");
      return 2;
    }
    if (!file.readsInput && (limit != null || input != null)) {
      System.err.println("skein run: --limit and --input are about the spec's input, and no stage of this spec reads it"
          + " (its first stage explodes the setup row)");
      return 2;
    }
    if (limit != null && spec.input().numRecords() != null && inputFile == null) {
      ((ObjectNode) tree.get("input")).put("num_records", Math.min(limit, spec.input().numRecords()));
    }
    if (file.readsInput && inputFile == null && spec.input().records() == null && spec.input().numRecords() == null && spec.target() == null) {
      System.err.println("skein run: no records: pass --input FILE, or give input.file, input.records or input.num_records in the spec");
      return 2;
    }
    String extension = "." + format.name();
    Path out = output != null ? output : Path.of(tree.path("name").asText().replaceAll("[^A-Za-z0-9_.-]", "_") + extension);
    Path err = errors != null ? errors : beside(out, ".errors" + extension);
    String fingerprint = fingerprint(tree, inputFile, limit);
    if (limit != null) {
      // A cap on the records, as input.limit: drawn rows (num_records, sampling) are cut, not the file.
      ObjectNode in = tree.has("input") ? (ObjectNode) tree.get("input") : ((ObjectNode) tree).putObject("input");
      in.put("limit", spec.input().limit() == null ? limit : Math.min(limit, spec.input().limit()));
    }

    NodeOptions options = store.localNode(httpPort);
    SkeinNode node;
    try {
      node = SkeinNode.start(options);
    } catch (Exception e) {
      System.err.println("skein run: could not start a local node in " + store.dataDir + ": " + rootMessage(e));
      return 1;
    }
    try (node) {
      JobInfo job;
      Optional<JobInfo> earlier = fresh ? Optional.empty() : node.store().jobByFingerprint(fingerprint);
      if (earlier.isPresent()) {
        job = earlier.get();
        if (job.state() == JobState.RUNNING) {
          info("Resuming job %s (%d of %d records done)%n", job.id(), job.counts().done(), job.total());
          node.jobs().start(job.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        } else if (job.state() == JobState.PAUSED) {
          info("Resuming paused job %s (%d of %d records done); it was paused because %s%n", job.id(),
              job.counts().done(), job.total(), job.reason());
          node.jobs().resume(job.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        } else {
          info("Job %s already %s in %s; writing its rows again (use --new to run it anew)%n",
              job.id(), job.state().wireName(), store.dataDir);
        }
      } else {
        try {
          job = node.jobs().submit(file.submission(inputFile, fingerprint, parts)).toCompletableFuture().join();
        } catch (CompletionException e) {
          if (e.getCause() instanceof SpecException spe) {
            return badSpec(spe);
          }
          throw e;
        }
        if (file.staged == null) {
          info("Job %s: %d records%n", job.id(), job.total());
        } else {
          info("Job %s: stages %s, each fed by the one before as its rows land%n", job.id(), String.join(" -> ", file.staged.names()));
        }
      }
      // Ctrl-C (or SIGTERM) stops the run; say that nothing is lost and how to go on.
      String id = job.id();
      if (httpPort != null) {
        info("Watch it at http://127.0.0.1:%d/#/jobs/%s%n", node.httpPort(), id);
      }
      java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
      Thread hint = new Thread(() -> {
        if (!ended.get()) {
          System.err.printf("%nInterrupted: job %s stops here with every finished call kept. Run the same command again to resume it.%n", id);
        }
      }, "skein-run-interrupted");
      Runtime.getRuntime().addShutdownHook(hint);
      JobInfo done = Progress.await(node.store(), job.id(), !quiet && System.console() != null, node::stoppedBecause);
      ended.set(true);
      if (done.state() == JobState.PAUSED) {
        System.err.printf("Job %s paused after %d of %d records: %s%nRun the same command again to resume it.%n",
            done.id(), done.counts().done(), done.total(), done.reason());
        return PAUSED_EXIT;
      }
      String rowsId = done.id();
      if (file.staged != null) {
        List<JobInfo> stages = node.store().stages().stages(done.id()).toCompletableFuture().join();
        for (JobInfo stage : stages.subList(0, stages.size() - 1)) {
          String name = stage.stage().name();
          Path target = stageFiles.getOrDefault(name, beside(out, "." + name + extension));
          writeRows(node, stage.id(), file.staged.stage(name).orElseThrow().spec(), "stage " + name + ": ", target,
              beside(target, ".errors" + extension), java.util.Map.of(), extension);
        }
        rowsId = stages.get(stages.size() - 1).id();
      }
      String lastId = rowsId;
      long outRows = Export.write(() -> new JobService.RowsReader(node.store(), lastId, true, annotated), out, format);
      long errRows = Export.write(() -> new JobService.RowsReader(node.store(), lastId, false, annotated), err, format);
      writeDatasets(node, lastId, last, out, datasets, extension);
      if (last.target() != null) {
        Path extras = datasets.getOrDefault("extras", beside(out, ".extras" + extension));
        long n = Export.write(() -> JobService.RowsReader.extras(node.store(), lastId, annotated), extras, format);
        System.err.printf("extras (passed beyond target %d): %d rows -> %s%n", last.target().rows(), n, extras);
      }
      System.err.printf("%s %s: %d output rows -> %s, %d error rows -> %s, %d calls, %d tokens%n",
          done.id(), done.state().wireName(), outRows, out, errRows, err, done.counts().calls(), done.counts().tokens());
      if (done.state() != JobState.SUCCEEDED && done.reason() != null) {
        System.err.printf("%s %s because %s%n", done.id(), done.state().wireName(), done.reason());
      }
      return done.state() == JobState.SUCCEEDED ? 0 : 1;
    }
  }

  /** A stage's output rows, error rows and datasets, beside its own file; says where they went. */
  private void writeRows(SkeinNode node, String jobId, PipelineSpec stageSpec, String label, Path target, Path errorsFile,
      java.util.Map<String, Path> named, String extension) throws IOException {
    long rows = Export.write(() -> new JobService.RowsReader(node.store(), jobId, true, annotated), target, format);
    long errorRows = Export.write(() -> new JobService.RowsReader(node.store(), jobId, false, annotated), errorsFile, format);
    System.err.printf("%s%d output rows -> %s, %d error rows -> %s%n", label, rows, target, errorRows, errorsFile);
    writeDatasets(node, jobId, stageSpec, target, named, extension);
  }

  private void writeDatasets(SkeinNode node, String jobId, PipelineSpec stageSpec, Path beside, java.util.Map<String, Path> named,
      String extension) throws IOException {
    for (var dataset : stageSpec.datasets()) {
      Path target = named.getOrDefault(dataset.name(), beside(beside, "." + dataset.name() + extension));
      long n = Export.write(() -> JobService.RowsReader.dataset(node.store(), jobId, dataset.name()), target, format);
      System.err.printf("dataset %s: %d rows -> %s%n", dataset.name(), n, target);
    }
  }

  private int badSpec(SpecException e) {
    return SpecFile.report(specFile, e);
  }

  static Path errorsBeside(Path out) {
    return beside(out, ".errors.jsonl");
  }

  /** {@code out}'s directory and name without its extension, with {@code suffix}: out.jsonl -> out.errors.jsonl. */
  static Path beside(Path out, String suffix) {
    String name = out.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String base = dot > 0 ? name.substring(0, dot) : name;
    return out.toAbsolutePath().getParent().resolve(base + suffix);
  }

  /** The fingerprint of a run's records: the input file's bytes, or the spec's own records or count. */
  static String inputFingerprint(JsonNode tree, Path inputFile) throws IOException {
    if (inputFile == null) {
      JsonNode in = tree.path("input");
      return io.skein.coordinator.job.Fingerprints.sha(SpecParser.toJson(in.has("records") ? in.get("records") : in.path("num_records")));
    }
    try (InputStream in = Files.newInputStream(inputFile)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n = in.read(buf); n > 0; n = in.read(buf)) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Identifies a job by what it runs: the canonical spec, the input's bytes and the limit. */
  static String fingerprint(JsonNode tree, Path inputFile, Long limit) throws IOException {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(SpecParser.toJson(tree).getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      if (inputFile != null) {
        try (InputStream in = Files.newInputStream(inputFile)) {
          byte[] buf = new byte[1 << 16];
          int n;
          while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
          }
        }
      }
      md.update(("\0" + limit).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A line about what the run does, to stderr unless -q. */
  private void info(String format, Object... args) {
    if (!quiet) {
      System.err.printf(format, args);
    }
  }

  /** -q: Skein's and Pekko's logs at errors only, unless their levels are set in the environment. */
  private static void quietLogs() {
    for (String level : java.util.List.of("SKEIN_LOG_LEVEL", "SKEIN_PEKKO_LOG_LEVEL")) {
      if (System.getenv(level) == null && System.getProperty(level) == null) {
        System.setProperty(level, "ERROR");
      }
    }
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  /** Writes a job's rows of one kind as JSONL, page by page. */
  static final class Export {
    private Export() {}

    static long write(java.util.function.Supplier<JobService.RowsReader> rows, Path file, Format format) throws IOException {
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
      if (format == Format.parquet) {
        return io.skein.coordinator.job.ParquetRows.write(() -> JobService.json(rows.get()), file);
      }
      JobService.RowsReader reader = rows.get();
      long n = 0;
      try (var w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        for (List<String> page = reader.next(); !page.isEmpty(); page = reader.next()) {
          for (String line : page) {
            w.write(line);
            w.write('\n');
            n++;
          }
        }
      }
      return n;
    }
  }
}
