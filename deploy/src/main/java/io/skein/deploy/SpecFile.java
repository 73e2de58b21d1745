package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.job.InputFiles;
import io.skein.coordinator.job.JobService;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.spec.PipelineSpec;
import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.Stages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A spec read from disk by the CLI: parsed, with the files it names beside it read in
 * ({@code schema_file} becomes {@code schema}, so the job stored carries the bytes every node uses),
 * and its records as a submission.
 */
final class SpecFile {

  final Path path;
  final JsonNode tree;
  /** The spec of the stage that reads the input (the spec itself, for a spec of one stage). */
  final PipelineSpec spec;
  /** The stages of a staged spec; null for a spec of one stage. */
  final Stages.Staged staged;
  /** Some stage reads the spec's input (not so when the first stage explodes the setup row). */
  final boolean readsInput;

  private SpecFile(Path path, JsonNode tree, PipelineSpec spec, Stages.Staged staged) {
    this.path = path;
    this.tree = tree;
    this.spec = spec;
    this.staged = staged;
    this.readsInput = staged == null || staged.stages().stream().anyMatch(s -> !s.isSetup() && s.feed().fromInput());
  }

  /** Throws {@link SpecException} for a bad spec, {@link IOException} when it or a file it names cannot be read. */
  static SpecFile read(Path path) throws IOException {
    return read(path, null, gap -> { });
  }

  /**
   * As {@link #read(Path)}; a Data Designer config (found by its shape) is converted first, each
   * part that does not carry over told to {@code gaps}, {@code numRecords} as its
   * create(num_records=...). {@code numRecords} for a Skein spec is an error.
   */
  static SpecFile read(Path path, Integer numRecords, java.util.function.Consumer<io.skein.protocol.importer.Gap> gaps)
      throws IOException {
    JsonNode tree = SpecParser.readTree(Files.readString(path));
    if (io.skein.protocol.importer.DataDesignerImport.isConfig(tree)) {
      var converted = io.skein.protocol.importer.DataDesignerImport.convert(tree, importedName(path), numRecords);
      converted.gaps().forEach(gaps);
      tree = converted.spec();
    } else if (numRecords != null) {
      throw new SpecException(List.of(new SpecError("--num-records", "is for Data Designer configs; a Skein spec says"
          + " input.num_records (or run it with --limit)")));
    }
    Path dir = path.toAbsolutePath().getParent();
    List<SpecError> errors = new ArrayList<>();
    inlineSchemas(tree.path("steps"), "steps", dir, errors);
    inlineSchemas(tree.path(Stages.SETUP), Stages.SETUP, dir, errors);
    JsonNode stages = tree.path("stages");
    for (int i = 0; i < stages.size(); i++) {
      inlineSchemas(stages.get(i).path("steps"), "stages[" + i + "].steps", dir, errors);
    }
    inlineTexts(tree.path("files"), dir, errors);
    if (!errors.isEmpty()) {
      throw new SpecException(errors);
    }
    if (!Stages.isStaged(tree)) {
      return new SpecFile(path, tree, SpecParser.parse(tree), null);
    }
    Stages.Staged staged = Stages.read(tree);
    PipelineSpec first = staged.stages().stream().filter(s -> !s.isSetup() && s.feed().fromInput()).findFirst()
        .orElse(staged.stages().get(0)).spec();
    return new SpecFile(path, tree, first, staged);
  }

  /** {@code files: {name: path}}: each file's text read in, as {@code {path, text}}, so the job stored carries the bytes. */
  private static void inlineTexts(JsonNode files, Path dir, List<SpecError> errors) {
    if (!files.isObject()) {
      return;
    }
    files.fields().forEachRemaining(e -> {
      if (e.getValue().isTextual()) {
        Path file = dir.resolve(e.getValue().asText());
        try {
          String text = Files.readString(file);
          ((ObjectNode) files).putObject(e.getKey()).put("path", e.getValue().asText()).put("text", text);
        } catch (IOException x) {
          errors.add(new SpecError("files." + e.getKey(), "cannot read " + file + ": " + x.getMessage()));
        }
      }
    });
  }

  private static void inlineSchemas(JsonNode steps, String at, Path dir, List<SpecError> errors) {
    for (int i = 0; i < steps.size(); i++) {
      JsonNode step = steps.get(i);
      if (step.isObject() && step.path("schema_file").isTextual()) {
        Path file = dir.resolve(step.get("schema_file").asText());
        String where = at + "[" + i + "] (" + step.path("name").asText() + ").schema_file";
        try {
          ((ObjectNode) step).set("schema", SpecParser.readTree(Files.readString(file)));
          ((ObjectNode) step).remove("schema_file");
        } catch (IOException e) {
          errors.add(new SpecError(where, "cannot read " + file + ": " + e.getMessage()));
        } catch (SpecException e) {
          errors.add(new SpecError(where, file + " is not JSON or YAML: " + e.getMessage()));
        }
      }
    }
  }

  /**
   * For a command that runs a spec: quiets Skein's log to warnings (unless SKEIN_LOG_LEVEL says
   * otherwise) and reads the spec, or prints why it cannot and answers null (exit code 2).
   */
  /** The name of the spec converted from a Data Designer config: the config's file name without its extension. */
  static String importedName(Path config) {
    return config.getFileName().toString().replaceAll("\\.(ya?ml|json)$", "").replaceAll("[^A-Za-z0-9_.-]", "-");
  }

  static SpecFile forCommand(String command, Path path) {
    return forCommand(command, path, null);
  }

  /** As above; a Data Designer config is converted, saying what did not carry over. */
  static SpecFile forCommand(String command, Path path, Integer numRecords) {
    if (System.getProperty("SKEIN_LOG_LEVEL") == null && System.getenv("SKEIN_LOG_LEVEL") == null) {
      System.setProperty("SKEIN_LOG_LEVEL", "WARN");
    }
    try {
      return read(path, numRecords, gap -> System.err.println("skein " + command + ": Data Designer config: " + gap));
    } catch (IOException e) {
      System.err.println("skein " + command + ": cannot read " + path + ": " + e.getMessage());
    } catch (SpecException e) {
      report(path, e);
    }
    return null;
  }

  /** The records' file: {@code override}, else the spec's {@code input.file} beside it, else null. */
  Path inputFile(Path override) {
    if (!readsInput) {
      return null;
    }
    return override != null ? override : spec.input().file() != null ? path.toAbsolutePath().getParent().resolve(spec.input().file()) : null;
  }

  /** The job to submit: the file's records, else none (the job service reads the spec's own records). */
  JobService.Submission submission(Path inputFile, String fingerprint, io.skein.coordinator.job.Fingerprints parts) throws IOException {
    Set<String> fields = new LinkedHashSet<>();
    Iterator<InputRow> rows = null;
    if (inputFile != null) {
      rows = InputFiles.read(inputFile, fields);
    }
    return new JobService.Submission(tree, rows, fields, fingerprint, parts);
  }

  /** Prints a bad spec's problems, one a line; the exit code of a bad spec. */
  static int report(Path file, SpecException e) {
    System.err.println(file + ": the spec cannot run:");
    for (SpecError error : e.errors()) {
      System.err.println("  " + error);
    }
    return 2;
  }
}
