package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import io.skein.coordinator.http.JobJson;
import io.skein.coordinator.store.JobRetention;
import io.skein.coordinator.store.JobStore;
import io.skein.coordinator.store.SkeinDb;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
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

  private static final ObjectMapper JSON = new ObjectMapper();

  /** {@code skein jobs} alone lists them. */
  @Override
  public Integer call() {
    return spec.commandLine().getSubcommands().get("list").execute();
  }

  /** {@code skein delete JOB...}: the same as {@code skein jobs delete}. */
  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete ended jobs with their journal, inputs and rows (cancel a running job first).")
  static final class Delete extends DeleteJobs {}

  /** Where the jobs are: a server, or the local store. */
  static final class Target {
    @Option(names = "--server", defaultValue = "${env:SKEIN_SERVER}",
        description = "A running node's HTTP API (e.g. http://127.0.0.1:8080); default: SKEIN_SERVER, else the local store.")
    URI server;

    @Option(names = "--token", defaultValue = "${env:SKEIN_TOKEN}", description = "The server's API token (default: SKEIN_TOKEN;"
        + " prefer the variable: a command line is visible to every user of the machine).")
    String token;

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

    HttpResponse<String> send(String method, String path) throws Exception {
      HttpRequest.Builder request = HttpRequest.newBuilder(server.resolve(path)).timeout(Duration.ofMinutes(2))
          .method(method, HttpRequest.BodyPublishers.noBody());
      if (token != null && !token.isBlank()) {
        request.header("Authorization", "Bearer " + token.strip());
      }
      return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build().send(request.build(), HttpResponse.BodyHandlers.ofString());
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
      if (target.server != null) {
        HttpResponse<String> r = target.send("GET", "/jobs");
        if (r.statusCode() != 200) {
          System.err.println("skein jobs list: " + target.server + " answered " + r.statusCode() + ": " + detail(r.body()));
          return 1;
        }
        JSON.readTree(r.body()).path("jobs").forEach(jobs::add);
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
      if (target.server != null) {
        for (String id : ids) {
          HttpResponse<String> r = target.send("DELETE", "/jobs/" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8));
          code = Math.max(code, report(id, r.statusCode() == 204 ? null : detail(r.body())));
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

  /** The {@code detail} of a problem+json answer, else the body as it came. */
  private static String detail(String body) {
    try {
      JsonNode problem = JSON.readTree(body);
      return problem.hasNonNull("detail") ? problem.get("detail").asText() : body;
    } catch (Exception e) {
      return body;
    }
  }
}
