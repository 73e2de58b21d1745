package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.coordinator.store.JobInfo;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The client commands: a job on a running node ({@code --server URL}, or {@code SKEIN_SERVER}),
 * over the same HTTP API as the dashboard — {@code submit}, {@code watch}, {@code results},
 * {@code pause}, {@code resume}, {@code cancel}. Exit codes are {@code skein run}'s: 0 succeeded
 * (or done as asked), 1 failed, cancelled or refused, 2 a bad spec or usage, 3 paused.
 */
final class ClientCommands {

  private ClientCommands() {}

  static final int PAUSED_EXIT = RunCommand.PAUSED_EXIT;
  private static final Set<String> ENDED = Set.of("succeeded", "failed", "cancelled");

  @Command(name = "submit", mixinStandardHelpOptions = true,
      description = "Submit a spec (and its records) to a running node; prints the job id.")
  static final class Submit implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The pipeline spec (YAML or JSON), or a Data Designer config.")
    Path specFile;

    @Option(names = "--input", description = "Records as JSONL, CSV or Parquet (default: the spec's input.file, if any).")
    Path input;

    @Option(names = "--watch", description = "Show the job's progress until it ends, and exit as `skein run` does.")
    boolean watch;

    @Option(names = {"-q", "--quiet"}, description = "With --watch: no progress bar, only the summary.")
    boolean quiet;

    @Mixin
    RemoteServer remote;

    @Override
    public Integer call() throws Exception {
      if (remote.missing("submit")) {
        return 2;
      }
      SpecFile file = SpecFile.forCommand("submit", specFile);
      if (file == null) {
        return 2;
      }
      Path records = file.inputFile(input);
      JsonNode created;
      try {
        created = remote.send(multipart(file.tree.toString(), records));
      } catch (RemoteServer.Refused refused) {
        System.err.println("skein submit: " + remote.server + " refused the job: " + refused.getMessage());
        return refused.status == 400 || refused.status == 413 || refused.status == 415 ? 2 : 1;
      }
      String id = created.path("id").asText();
      System.out.println(id);
      return watch ? follow(remote, id, !quiet && System.console() != null) : 0;
    }

    /** The spec part first, then the records part streamed from its file (never read whole). */
    private HttpRequest multipart(String spec, Path records) throws IOException {
      String boundary = "skein-" + Long.toHexString(System.nanoTime());
      List<HttpRequest.BodyPublisher> parts = new java.util.ArrayList<>();
      parts.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"spec\"; filename=\"spec.json\""
          + "\r\nContent-Type: application/json\r\n\r\n" + spec + "\r\n", StandardCharsets.UTF_8));
      if (records != null) {
        if (!Files.isReadable(records)) {
          throw new IOException("cannot read the records file " + records);
        }
        String name = records.getFileName().toString().replace("\"", "");
        parts.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"records\"; filename=\""
            + name + "\"\r\nContent-Type: application/octet-stream\r\n\r\n", StandardCharsets.UTF_8));
        parts.add(HttpRequest.BodyPublishers.ofFile(records));
        parts.add(HttpRequest.BodyPublishers.ofString("\r\n", StandardCharsets.UTF_8));
      }
      parts.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "--\r\n", StandardCharsets.UTF_8));
      return remote.request("/jobs").header("Content-Type", "multipart/form-data; boundary=" + boundary)
          .POST(HttpRequest.BodyPublishers.concat(parts.toArray(HttpRequest.BodyPublisher[]::new))).build();
    }
  }

  @Command(name = "watch", mixinStandardHelpOptions = true,
      description = "Show a job's progress until it ends or pauses; exit as `skein run` does.")
  static final class Watch implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JOB", description = "The job's id.")
    String id;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar, only the summary.")
    boolean quiet;

    @Mixin
    RemoteServer remote;

    @Override
    public Integer call() throws Exception {
      if (remote.missing("watch")) {
        return 2;
      }
      return follow(remote, id, !quiet && System.console() != null);
    }
  }

  /**
   * Follows a job's event stream to its end (or a pause), drawing the progress line on a terminal;
   * a stream cut short (the node restarting) is opened again, for up to a minute of failures in a row.
   */
  static int follow(RemoteServer remote, String id, boolean draw) throws Exception {
    long start = System.nanoTime();
    long[] startDone = {-1};
    JsonNode[] last = {null};
    boolean[] gone = {false};
    long failingSince = 0;
    while (true) {
      try {
        remote.events(RemoteServer.job(id) + "/events", (type, data) -> {
          if (type.equals("gone")) {
            gone[0] = true;
            return false;
          }
          last[0] = data;
          if (startDone[0] < 0) {
            startDone[0] = counts(data).done();
          }
          if (draw) {
            System.err.print("\r" + line(data, startDone[0], (System.nanoTime() - start) / 1e9));
            System.err.flush();
          }
          return !stops(data);
        });
        failingSince = 0;
      } catch (RemoteServer.Refused refused) {
        System.err.println((draw ? "\n" : "") + "skein watch: " + refused.getMessage());
        return 1;
      } catch (IOException e) {
        long now = System.nanoTime();
        failingSince = failingSince == 0 ? now : failingSince;
        if (now - failingSince > Duration.ofMinutes(1).toNanos()) {
          System.err.println((draw ? "\n" : "") + "skein watch: lost " + remote.server + " for a minute: " + Main.reason(e));
          return 1;
        }
        Thread.sleep(1000);
        continue;
      }
      if (gone[0] || (last[0] != null && stops(last[0]))) {
        break;
      }
    }
    if (draw) {
      System.err.println();
    }
    if (gone[0]) {
      System.err.println("skein watch: job " + id + " was deleted");
      return 1;
    }
    return summary(last[0]);
  }

  private static boolean stops(JsonNode status) {
    String state = status.path("state").asText();
    return ENDED.contains(state) || state.equals("paused");
  }

  static JobInfo.Counts counts(JsonNode s) {
    return new JobInfo.Counts(s.path("succeeded").asLong(), s.path("failed").asLong(), s.path("calls").asLong(), s.path("tokens").asLong());
  }

  static String line(JsonNode s, long startDone, double seconds) {
    return Progress.line(s.path("total").asLong(), s.path("target").path("rows").asLong(0), counts(s), ENDED.contains(s.path("state").asText()),
        startDone, seconds);
  }

  /** One line on how the job stands, on stdout; the exit code its state means. */
  static int summary(JsonNode s) {
    String state = s.path("state").asText();
    JobInfo.Counts c = counts(s);
    String cost = s.path("cost_usd").asDouble() > 0 ? ", $" + s.get("cost_usd").asText()
        + (s.has("projected_cost_usd") ? " (about $" + s.get("projected_cost_usd").asText() + " in all)" : "") : "";
    System.out.printf("%s %s: %d succeeded, %d failed of %d records; %d calls, %d tokens%s%s%n", s.path("id").asText(), state,
        c.succeeded(), c.failed(), s.path("total").asLong(), c.calls(), c.tokens(), cost,
        s.hasNonNull("reason") ? " — " + s.get("reason").asText() : s.hasNonNull("waiting_for") ? " — waiting for " + s.get("waiting_for").asText() : "");
    return switch (state) {
      case "failed", "cancelled" -> 1;
      case "paused" -> PAUSED_EXIT;
      default -> 0;
    };
  }

  @Command(name = "results", mixinStandardHelpOptions = true,
      description = "Download a job's rows: output, errors and datasets (a running job's rows so far).")
  static final class Results implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JOB", description = "The job's id.")
    String id;

    @Option(names = {"-o", "--output"}, description = "Where output rows go (default: <job>.jsonl, or .parquet).")
    Path output;

    @Option(names = "--errors", description = "Where error rows go (default: beside the output, <name>.errors.jsonl).")
    Path errors;

    @Option(names = "--dataset", paramLabel = "NAME=FILE", description = "Also download a processor's dataset (repeatable).")
    Map<String, Path> datasets = new LinkedHashMap<>();

    @Option(names = "--stage", description = "A staged job's stage (default: its last).")
    String stage;

    @Option(names = "--format", defaultValue = "jsonl", description = "Output rows as jsonl (default) or parquet.")
    String format;

    @Option(names = "--annotated", description = "Rows with their input, every call and timings.")
    boolean annotated;

    @Mixin
    RemoteServer remote;

    @Override
    public Integer call() throws Exception {
      if (remote.missing("results")) {
        return 2;
      }
      if (!format.equals("jsonl") && !format.equals("parquet")) {
        System.err.println("skein results: --format is jsonl or parquet, not " + format);
        return 2;
      }
      Path out = output != null ? output : Path.of(id + "." + format);
      Path errs = errors != null ? errors : out.resolveSibling(out.getFileName().toString().replaceAll("\\.(jsonl|parquet)$", "") + ".errors.jsonl");
      String base = RemoteServer.job(id) + (stage == null ? "" : "/stages/" + java.net.URLEncoder.encode(stage, StandardCharsets.UTF_8));
      String flag = annotated ? "annotated=true" : "";
      try {
        JsonNode status = remote.json("GET", RemoteServer.job(id));
        remote.download(base + "/results?" + (format.equals("parquet") ? "format=parquet&" : "") + flag, out);
        remote.download(base + "/errors?" + flag, errs);
        for (var d : datasets.entrySet()) {
          remote.download(base + "/datasets/" + java.net.URLEncoder.encode(d.getKey(), StandardCharsets.UTF_8), d.getValue());
        }
        boolean running = !ENDED.contains(status.path("state").asText());
        System.out.printf("%s%s to %s, %d error rows to %s%s%n", format.equals("parquet") ? "output rows" : lines(out) + " output rows",
            running ? " so far (the job is " + status.path("state").asText() + ")" : "", out, lines(errs), errs,
            datasets.isEmpty() ? "" : datasets.entrySet().stream().map(d -> ", " + lines(d.getValue()) + " " + d.getKey() + " rows to " + d.getValue())
                .reduce("", String::concat));
        return 0;
      } catch (RemoteServer.Refused refused) {
        System.err.println("skein results: " + refused.getMessage());
        return 1;
      }
    }

    private static long lines(Path file) {
      try (var in = Files.lines(file)) {
        return in.filter(l -> !l.isBlank()).count();
      } catch (IOException | java.io.UncheckedIOException e) {
        return 0;
      }
    }
  }

  /** Pause, resume or cancel: POST /jobs/{id}/{verb}, then the job's line. */
  abstract static class Control implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JOB", description = "The job's id.")
    String id;

    @Mixin
    RemoteServer remote;

    abstract String verb();

    /** The command's name, where it is not the verb. */
    String name() {
      return verb();
    }

    /** After the change: 0, or with --watch, how the job then ends. */
    int then(String id) throws Exception {
      return 0;
    }

    /** The query string the verb sends, if any. */
    String query() {
      return "";
    }

    @Override
    public Integer call() throws Exception {
      if (remote.missing(name())) {
        return 2;
      }
      try {
        JsonNode status = remote.json("POST", RemoteServer.job(id) + "/" + verb() + query());
        summary(status);
      } catch (RemoteServer.Refused refused) {
        System.err.println("skein " + name() + ": " + refused.getMessage());
        return 1;
      }
      return then(id);
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a job: no new record starts; those running finish.")
  static final class Pause extends Control {
    @Override
    String verb() {
      return "pause";
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused job.")
  static final class Resume extends Control {
    @Option(names = "--max-cost", paramLabel = "DOLLARS", description = "A new max_cost, for a job paused at its old one.")
    Double maxCost;

    @Override
    String verb() {
      return "resume";
    }

    @Override
    String query() {
      return maxCost == null ? "" : "?max_cost=" + maxCost;
    }
  }

  @Command(name = "retry", mixinStandardHelpOptions = true,
      description = "Retry an ended job's failed records: each goes on from its last answered call, and its error row is replaced.")
  static final class Retry extends Control {
    @Option(names = "--watch", description = "Show the job's progress until it ends again, and exit as `skein run` does.")
    boolean watch;

    @Override
    String verb() {
      return "retry-failed";
    }

    @Override
    String name() {
      return "retry";
    }

    @Override
    int then(String id) throws Exception {
      return watch ? follow(remote, id, System.console() != null) : 0;
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a job: no call is sent after it.")
  static final class Cancel extends Control {
    @Override
    String verb() {
      return "cancel";
    }
  }
}
