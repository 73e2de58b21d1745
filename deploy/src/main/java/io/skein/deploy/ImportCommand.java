package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.skein.protocol.importer.DataDesignerImport;
import io.skein.protocol.importer.Gap;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code skein import data-designer CONFIG}: a Data Designer config as a Skein spec. */
@Command(name = "import", mixinStandardHelpOptions = true, description = "Convert another tool's config into a Skein spec.",
    subcommands = ImportCommand.DataDesigner.class)
final class ImportCommand extends ParentCommand {


  @Command(name = "data-designer", mixinStandardHelpOptions = true,
      description = {"Convert a config written by Data Designer's write_config (YAML or JSON) into a Skein spec, say what did"
          + " not carry over (by column), and check the spec as `skein validate` does.",
          "Exit 0: converted and valid; 1: --strict and something did not carry over; 2: the spec cannot run as converted."})
  static final class DataDesigner implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "The Data Designer config (YAML or JSON).")
    Path config;

    @Option(names = {"-o", "--output"}, description = "Where to write the spec (default: standard output).")
    Path output;

    @Option(names = "--num-records", description = "Records to make, as create(num_records=...) (default: every row of the seed"
        + " dataset, or " + DataDesignerImport.DEFAULT_RECORDS + " without one).")
    Integer numRecords;

    @Option(names = "--strict", description = "Fail (exit 1, writing nothing) if anything does not carry over.")
    boolean strict;

    @Override
    public Integer call() throws Exception {
      JsonNode root = SpecParser.readTree(Files.readString(config));
      var converted = DataDesignerImport.convert(root, SpecFile.importedName(config), numRecords);
      for (Gap gap : converted.gaps()) {
        System.err.println("skein import: " + gap);
      }
      if (strict && !converted.gaps().isEmpty()) {
        System.err.println("skein import: " + converted.gaps().size() + " part(s) did not carry over; nothing written (--strict)");
        return 1;
      }
      Path target = output != null ? output : Files.createTempFile("skein-import", ".yaml");
      relocateSeed(converted.spec(), config.toAbsolutePath().getParent(), target.toAbsolutePath().getParent());
      String yaml = header(root, converted.gaps().size()) + yaml().writeValueAsString(converted.spec());
      Files.writeString(target, yaml);
      if (output == null) {
        System.out.print(yaml);
      }
      try {
        ValidateCommand.plans(target, null);
      } catch (SpecException e) {
        return SpecFile.report(output != null ? output : config, e);
      } catch (IOException e) {
        System.err.println("skein import: the converted spec's input cannot be read: " + e.getMessage());
        return 2;
      } finally {
        if (output == null) {
          Files.deleteIfExists(target);
        }
      }
      return 0;
    }

    /**
     * The seed file, which the config names relative to itself (as Data Designer reads it from its
     * folder), named relative to where the spec goes: beside it or below, else by its absolute path.
     */
    private static void relocateSeed(ObjectNode spec, Path from, Path to) {
      JsonNode file = spec.path("input").path("file");
      if (file.isTextual() && !Path.of(file.asText()).isAbsolute()) {
        Path seed = from.resolve(file.asText()).normalize();
        Path relative = to.relativize(seed);
        ((ObjectNode) spec.get("input")).put("file", relative.startsWith("..") ? seed.toString() : relative.toString());
      }
    }

    private String header(JsonNode root, int gaps) {
      return "# Converted by `skein import data-designer` from " + config.getFileName() + " (Data Designer "
          + root.path("library_version").asText("of an unknown version") + ")"
          + (gaps == 0 ? "" : "; " + gaps + " part(s) did not carry over as they were: see what the import printed") + "\n";
    }

    private static YAMLMapper yaml() {
      return new YAMLMapper(YAMLFactory.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE).build());
    }
  }
}
