package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.skein.coordinator.http.JobJson;
import io.skein.coordinator.store.JobRetention;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.SkeinDb;
import java.util.ArrayList;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code skein jobs list|delete}: the jobs a store keeps — the local one ({@code --data-dir}, or
 * {@code --db-url}) read directly, or a running node's with {@code --server URL} over its HTTP API.
 */
@Command(name = "jobs", mixinStandardHelpOptions = true, description = "List or delete the jobs a store keeps.",
    subcommands = {JobsCommand.ListJobs.class, JobsCommand.DeleteJobs.class})
final class JobsCommand extends ParentCommand {

  /** {@code skein jobs} alone lists them. */
  @Override
  public Integer call() {
    return spec.commandLine().getSubcommands().get("list").execute();
  }

  /** {@code skein delete JOB...}: the same as {@code skein jobs delete}. */
  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete ended jobs with their journal, inputs and rows (cancel a running job first).")
  static final class Delete extends DeleteJobs {}

  /** Where the jobs are: a server ({@code --server} or {@code SKEIN_SERVER}), or the local store. */
  static final class Target {
    @Mixin
    RemoteServer remote;

    @Mixin
    StoreOptions store;

    /** The local store's settings, as a node on it would read them. */
    Config skein() {
      return store.skein();
    }

    /** The local store's database, opened without starting a node (the schema is created if absent). */
    SkeinDb openStore(Config skein) {
      return StoreOptions.open(skein);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "The newest jobs first: id, state, counts, name.")
  static final class ListJobs implements Callable<Integer> {
    @Mixin
    Target target;

    @Option(names = "--json", description = "One JSON object per job, as GET /jobs/{id} answers.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      java.util.List<JsonNode> jobs = new ArrayList<>();
      if (target.remote.given()) {
        try {
          target.remote.json("GET", "/jobs").path("jobs").forEach(jobs::add);
        } catch (RemoteServer.Refused refused) {
          System.err.println("skein jobs list: " + target.remote.server + " answered " + refused.status + ": " + refused.getMessage());
          return 1;
        }
      } else {
        try (SkeinDb db = target.openStore(target.skein())) {
          new JobStore(db).jobs(1000).toCompletableFuture().join().forEach(j -> jobs.add(JobJson.status(j)));
        }
      }
      for (JsonNode j : jobs) {
        System.out.println(json ? j.toString() : String.format("%-20s %-10s %8d/%-8d failed %-6d %s", j.path("id").asText(),
            j.path("state").asText(), j.path("succeeded").asLong() + j.path("failed").asLong(), j.path("total").asLong(),
            j.path("failed").asLong(), j.path("name").asText()));
      }
      return 0;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete ended jobs with their journal, inputs and rows (cancel a running job first).")
  static class DeleteJobs implements Callable<Integer> {
    @Mixin
    Target target;

    @Parameters(paramLabel = "ID", arity = "1..*", description = "The jobs to delete.")
    java.util.List<String> ids;

    @Override
    public Integer call() throws Exception {
      int code = 0;
      if (target.remote.given()) {
        for (String id : ids) {
          String problem = null;
          try {
            target.remote.json("DELETE", RemoteServer.job(id));
          } catch (RemoteServer.Refused refused) {
            problem = refused.getMessage();
          }
          code = Math.max(code, report(id, problem));
        }
        return code;
      }
      Config skein = target.skein();
      try (SkeinDb db = target.openStore(skein)) {
        JobRetention retention = new JobRetention(db, skein.getDuration("record.call-grace"));
        for (String id : ids) {
          JobRetention.Outcome outcome = retention.delete(id).toCompletableFuture().join();
          code = Math.max(code, report(id, switch (outcome) {
            case DELETED -> null;
            case NOT_FOUND -> "no job `" + id + "`";
            case NOT_ENDED -> "job `" + id + "` has not ended: cancel it first";
            case STOPPING -> "job `" + id + "` was cancelled moments ago and its records are still stopping: try again in a few seconds";
          }));
        }
      }
      return code;
    }

    private static int report(String id, String problem) {
      if (problem == null) {
        System.out.println("deleted " + id);
        return 0;
      }
      System.err.println("skein jobs delete: " + problem);
      return 1;
    }
  }
}
