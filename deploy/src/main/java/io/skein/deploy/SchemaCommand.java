package io.skein.deploy;

import io.skein.worker.step.SpecSchema;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code skein schema}: the JSON Schema of the spec language, for editors (also served as {@code GET /schema}). */
@Command(name = "schema", mixinStandardHelpOptions = true,
    description = "Print the JSON Schema of pipeline specs (every step kind and key, with descriptions), for editors.")
final class SchemaCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    System.out.println(SpecSchema.get().toPrettyString());
    return 0;
  }
}
