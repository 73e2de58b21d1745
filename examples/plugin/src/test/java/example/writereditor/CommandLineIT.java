package example.writereditor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built plugin jar with the skein command, as a user runs it: {@code skein run SPEC --plugins JAR}. */
class CommandLineIT {

  @TempDir
  Path dir;

  @Test
  void skeinRunsTheSpecWithThePluginAndRefusesItWithout() throws Exception {
    Path out = dir.resolve("stories.jsonl");
    Result run = skein("run", "story.yaml", "--plugins", jar("plugin.jar").toString(), "-q", "--output", out.toString(),
        "--data-dir", dir.resolve("data").toString());
    assertEquals(0, run.exit, run.output);
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      rows.add(new ObjectMapper().readTree(line));
    }
    assertEquals(3, rows.size(), rows.toString());
    rows.forEach(row -> assertTrue(row.get("story").asText().length() > 0 && row.get("story__trace").size() == 6, row.toString()));

    Result without = skein("validate", "story.yaml");
    assertEquals(2, without.exit, without.output);
    assertTrue(without.output.contains("unknown step kind `writer_editor`"), without.output);

    Result schema = skein("schema", "--plugins", jar("plugin.jar").getParent().toString());
    assertEquals(0, schema.exit, schema.output);
    assertTrue(schema.output.contains("\"writer_editor\"") && schema.output.contains("The model alias that drafts and revises."),
        "the plugin's kind, with its keys' descriptions, is in the spec's schema");
  }

  private static Path jar(String property) {
    Path jar = Path.of(System.getProperty(property, "-"));
    assertTrue(Files.isRegularFile(jar), property + " is not a file: " + jar + " (run through Maven: mvn verify)");
    return jar;
  }

  private record Result(int exit, String output) {}

  private Result skein(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar("skein.jar").toString()));
    command.addAll(List.of(args));
    Path log = Files.createTempFile(dir, "skein", ".log");
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(3, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("skein " + String.join(" ", args) + " did not end within 3 minutes:\n" + Files.readString(log));
    }
    return new Result(p.exitValue(), Files.readString(log));
  }
}
