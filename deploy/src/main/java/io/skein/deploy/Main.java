package io.skein.deploy;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar skein.jar <run|validate|preview|schema|node|simulate|bench>}: Skein's command line. */
@Command(
    name = "skein",
    mixinStandardHelpOptions = true,
    version = "Skein 0.1.0",
    description = "A durable, distributed engine for LLM data pipelines.",
    subcommands = {RunCommand.class, ValidateCommand.class, PreviewCommand.class, SchemaCommand.class, NodeCommand.class,
        SimulateCommand.class, BenchCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    // On one or two cores the common pool has parallelism 1, and CompletableFuture then starts a
    // new thread for every async continuation (Pekko's Java futures use them): give it two.
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
          String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
    int code = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    System.exit(code);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
