package io.skein.deploy;

import com.typesafe.config.Config;
import io.skein.coordinator.job.Fingerprints;
import io.skein.coordinator.store.JobInfo;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.SkeinDb;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code skein status JOB --server URL}: how a job on a running node stands (exit 0 running or
 * succeeded, 1 failed or cancelled, 3 paused). {@code skein status SPEC}: whether the latest job of this spec in the local store is
 * {@code current} (made of exactly this spec, input, files and models), {@code stale} (and what
 * changed) or {@code partial} (run with {@code --limit}). Exit code 0 when current, 1 otherwise, 2
 * for a spec that cannot be read. A rerun of a stale spec answers every call whose request did not
 * change from the response cache.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"status JOB: how a job on a running node stands (--server or SKEIN_SERVER).",
        "status SPEC: whether the last local run of a spec is current, stale (and what changed) or partial."})
final class StatusCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "SPEC|JOB", description = "A pipeline spec file (YAML or JSON), or a job's id.")
  Path specFile;

  @Mixin
  RemoteServer remote;

  @Option(names = "--json", description = "For a job: its status as GET /jobs/{id} answers.")
  boolean json;

  @Option(names = "--input", description = "Records as JSONL, as given to `skein run` (default: the spec's input).")
  Path input;

  @Mixin
  StoreOptions store;

  @Override
  public Integer call() throws Exception {
    String arg = specFile.toString();
    if (!java.nio.file.Files.exists(specFile) && (remote.given() || arg.startsWith("job-"))) {
      return job(arg);
    }
    SpecFile file = SpecFile.forCommand("status", specFile);
    if (file == null) {
      return 2;
    }
    Fingerprints now = Fingerprints.of(file.tree, RunCommand.inputFingerprint(file.tree, file.inputFile(input)), null);
    String name = file.tree.path("name").asText();
    try (SkeinDb db = StoreOptions.open(store.skein())) {
      Optional<Map.Entry<JobInfo, String>> latest = new JobStore(db).latestByName(name);
      if (latest.isEmpty()) {
        System.out.printf("%s: never run in %s%n", name, store.dataDir);
        return 1;
      }
      JobInfo job = latest.get().getKey();
      String parts = latest.get().getValue();
      String ran = "job " + job.id() + " " + job.state().wireName() + " (" + job.counts().succeeded() + " records succeeded, "
          + job.counts().failed() + " failed)";
      if (parts.isEmpty()) {
        System.out.printf("%s: stale — %s kept no fingerprints (it ran on an older Skein)%n", name, ran);
        return 1;
      }
      Fingerprints then = Fingerprints.parse(parts);
      List<String> changes = now.changesSince(then);
      if (!changes.isEmpty()) {
        System.out.printf("%s: stale — %s; since then: %s%s%n", name, ran, String.join("; ", changes),
            then.limit() == null ? "" : "; and it ran with --limit " + then.limit());
        return 1;
      }
      if (then.limit() != null) {
        System.out.printf("%s: partial — %s, run with --limit %d%n", name, ran, then.limit());
        return 1;
      }
      System.out.printf("%s: current — %s%n", name, ran);
      return 0;
    }
  }

  /** A job's status from the server: one line (or its JSON), and the exit code its state means. */
  private int job(String id) throws Exception {
    if (remote.missing("status " + id)) {
      return 2;
    }
    try {
      com.fasterxml.jackson.databind.JsonNode status = remote.json("GET", RemoteServer.job(id));
      if (json) {
        System.out.println(status);
        String state = status.path("state").asText();
        return state.equals("failed") || state.equals("cancelled") ? 1 : state.equals("paused") ? ClientCommands.PAUSED_EXIT : 0;
      }
      return ClientCommands.summary(status);
    } catch (RemoteServer.Refused refused) {
      System.err.println("skein status: " + refused.getMessage());
      return 1;
    }
  }
}
