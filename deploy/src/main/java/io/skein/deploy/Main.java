package io.skein.deploy;

import picocli.CommandLine;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar skein.jar <command>}: Skein's command line — local runs and tools (run, validate,
 * preview, schema, node, simulate, bench, status, tokens, import) and the client of a running node
 * (submit, watch, status, results, pause, resume, cancel, jobs, delete); {@code generate-completion}
 * prints a bash/zsh completion script.
 */
@Command(
    name = "skein",
    mixinStandardHelpOptions = true,
    version = "Skein 0.1.0",
    description = "A durable, distributed engine for LLM data pipelines.",
    subcommands = {RunCommand.class, ValidateCommand.class, PreviewCommand.class, SchemaCommand.class, NodeCommand.class,
        SimulateCommand.class, BenchCommand.class, JobsCommand.class, StatusCommand.class, TokensCommand.class, ImportCommand.class,
        ClientCommands.Submit.class, ClientCommands.Watch.class, ClientCommands.Results.class, ClientCommands.Pause.class,
        ClientCommands.Resume.class, ClientCommands.Cancel.class, ClientCommands.Retry.class, JobsCommand.Delete.class,
        picocli.AutoComplete.GenerateCompletion.class})
public final class Main implements java.util.concurrent.Callable<Integer> {

  public static void main(String[] args) {
    // On one or two cores the common pool has parallelism 1, and CompletableFuture then starts a
    // new thread for every async continuation (Pekko's Java futures use them): give it two.
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
          String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
    Main main = new Main();
    int code = new CommandLine(main).setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler(Main::failed)
        .setExecutionStrategy(parsed -> main.usePlugins(parsed) ? new CommandLine.RunLast().execute(parsed) : 2)
        .execute(args);
    System.exit(code);
  }

  @Option(names = "--plugins", paramLabel = "PATH", scope = CommandLine.ScopeType.INHERIT,
      description = "Step kinds written in Java: a jar, or a directory of jars (default: $SKEIN_PLUGINS).")
  Path plugins;

  /** Adds the plugins' step kinds before any command reads a spec; false (having said why) if they do not load. */
  private boolean usePlugins(CommandLine.ParseResult parsed) {
    String env = System.getenv("SKEIN_PLUGINS");
    Path path = plugins != null ? plugins : env == null || env.isBlank() ? null : Path.of(env);
    if (path == null) {
      return true;
    }
    try {
      io.skein.worker.step.StepKinds.usePlugins(path);
      return true;
    } catch (IllegalArgumentException e) {
      parsed.commandSpec().commandLine().getErr().println("skein: --plugins " + path + ": " + e.getMessage());
      return false;
    }
  }

  /** A command that throws says what went wrong in a line, not a stack trace (SKEIN_DEBUG=1 prints it too). */
  private static int failed(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
    command.getErr().println("skein " + command.getCommandName() + ": " + reason(e));
    if (System.getenv("SKEIN_DEBUG") != null) {
      e.printStackTrace(command.getErr());
    }
    return 1;
  }

  /** The message of the first exception in the chain that has one of its own, past wrappers. */
  static String reason(Throwable e) {
    Throwable t = e;
    while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException
        || t.getMessage() == null) && t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** No command: say which there are, and exit 2 as for any other usage error. */
  @Override
  public Integer call() {
    new CommandLine(this).usage(System.err);
    return 2;
  }
}
