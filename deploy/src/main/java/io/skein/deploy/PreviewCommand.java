package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.protocol.spec.SpecException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code skein preview SPEC -n 5}: runs the first records as a job would and prints every field of
 * each (a table on a terminal, JSON lines otherwise, one JSON array with {@code --json}), keeping
 * no job. Answers may come from the data dir's response cache, and go to it.
 */
@Command(name = "preview", mixinStandardHelpOptions = true,
    description = "Run the first N records of a spec and print their rows, keeping no job.")
final class PreviewCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(index = "0", paramLabel = "SPEC", description = "The pipeline spec (YAML or JSON).")
  Path specFile;

  @Option(names = {"-n", "--records"}, defaultValue = "5", description = "How many records (default: ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--input", description = "Records as JSONL (default: the spec's input).")
  Path input;

  @Option(names = "--json", description = "Print one JSON array of the rows.")
  boolean json;

  @Mixin
  StoreOptions store;

  @Override
  public Integer call() throws Exception {
    SpecFile file = SpecFile.forCommand("preview", specFile);
    if (file == null) {
      return 2;
    }
    try (SkeinNode node = SkeinNode.start(store.localNode())) {
      List<JsonNode> rows;
      try {
        rows = node.jobs().preview(file.submission(file.inputFile(input), null, null), records)
            .toCompletableFuture().get(30, TimeUnit.MINUTES);
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof SpecException spe) {
          return SpecFile.report(specFile, spe);
        }
        throw e;
      }
      if (json) {
        System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(rows));
      } else if (System.console() != null) {
        System.out.print(RowTable.render(rows, terminalWidth()));
      } else {
        rows.forEach(System.out::println);
      }
      return 0;
    }
  }

  private static int terminalWidth() {
    try {
      return Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "120"));
    } catch (NumberFormatException e) {
      return 120;
    }
  }
}
