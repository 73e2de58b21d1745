package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --plugins} (and {@code SKEIN_PLUGINS}) with jars compiled here from source, as a plugin
 * author's build would make them: a kind is found and runs, a kind that throws fails its record and
 * not the node, and a path with no jar, a jar with no kind or a kind named as a built-in one is
 * refused with a line saying which and why.
 */
class PluginsTest {

  @TempDir
  static Path jars;

  @TempDir
  Path dir;

  /** {@code kind: shout}: the field upper-cased, computed without a model; throws for "boom". */
  private static final String SHOUT = """
      package plugin.test;

      import com.fasterxml.jackson.annotation.JsonProperty;
      import com.fasterxml.jackson.databind.node.TextNode;
      import io.skein.protocol.spec.StepSpec;
      import io.skein.worker.step.*;
      import java.util.Map;

      public final class ShoutKind extends TypedStepKind<ShoutKind.Params> {
        public record Params(@JsonProperty(required = true) String field) {}

        public ShoutKind() { super(Params.class); }
        public String name() { return "shout"; }
        public String description() { return "The field in capitals."; }

        protected StepLogic compile(StepSpec step, Params params, SpecContext spec, Problems problems) {
          if (params.field().equals("crash")) {
            throw new IllegalArgumentException("no field crash");
          }
          return new StepLogic() {
            public Map<String, String> names() { return Map.of("field", params.field()); }
            public Map<String, String> templates() { return Map.of(); }
            public boolean local() { return true; }
            public Outcome next(SampleView view) {
              String text = String.valueOf(view.context().get(params.field()));
              if (text.equals("boom")) {
                throw new IllegalStateException("cannot shout " + text);
              }
              return new Outcome.Value(TextNode.valueOf(text.toUpperCase()));
            }
          };
        }
      }
      """;

  private static final String CLASH = """
      package plugin.clash;

      public final class OtherLlm implements io.skein.worker.step.StepKind {
        public String name() { return "llm"; }
        public String description() { return "Not the real one."; }
        public com.fasterxml.jackson.databind.node.ObjectNode schema() {
          return io.skein.worker.step.Json.object("{\\"properties\\": {}}");
        }
        public io.skein.worker.step.StepLogic compile(io.skein.protocol.spec.StepSpec s, io.skein.worker.step.SpecContext c,
            io.skein.worker.step.Problems p) { return null; }
      }
      """;

  private static final String SPEC = """
      name: shouting
      input:
        records: [{id: a, word: hello}, {id: b, word: boom}, {id: c, word: tide}]
      steps:
        - {name: loud, kind: shout, field: word}
      """;

  @BeforeAll
  static void build() throws IOException {
    jar("shout", "plugin.test.ShoutKind", SHOUT, true);
    jar("clash", "plugin.clash.OtherLlm", CLASH, true);
    jar("nothing", "plugin.test.ShoutKind", SHOUT, false);
  }

  @Test
  void aPluginKindRunsAndOneThatThrowsFailsOnlyItsRecord() throws Exception {
    Path spec = Files.writeString(dir.resolve("shout.yaml"), SPEC);
    Path out = dir.resolve("out.jsonl");
    try (SkeinProcess p = skein("run", Map.of(), "run", spec.toString(), "--plugins", jars.resolve("shout").toString(), "-q",
        "--output", out.toString(), "--data-dir", dir.resolve("data").toString())) {
      p.awaitExit(Duration.ofMinutes(2));
      assertTrue(p.output().contains("2 output rows") && p.output().contains("1 error rows"), p.output());
    }
    List<JsonNode> rows = lines(out);
    assertEquals(List.of("HELLO", "TIDE"), rows.stream().map(r -> r.get("loud").asText()).toList());
    JsonNode error = lines(dir.resolve("out.errors.jsonl")).get(0);
    assertEquals("step_error", error.get("error").get("type").asText(), error.toString());
    assertTrue(error.get("error").get("message").asText().contains("steps.loud: the shout step failed: java.lang.IllegalStateException:"
        + " cannot shout boom"), error.toString());
  }

  @Test
  void aKindThatThrowsWhileCompilingIsAProblemWithTheSpec() throws Exception {
    Path spec = Files.writeString(dir.resolve("crash.yaml"), SPEC.replace("field: word", "field: crash"));
    try (SkeinProcess p = skein("crash", Map.of(), "validate", spec.toString(), "--plugins", jars.resolve("shout").toString())) {
      assertEquals(2, p.awaitExit(Duration.ofMinutes(1)), p.output());
      assertTrue(p.output().contains("steps[0] (loud): the shout kind (plugin.test.ShoutKind) failed on this step:"
          + " java.lang.IllegalArgumentException: no field crash"), p.output());
    }
  }

  @Test
  void theEnvironmentNamesPluginsToo() throws Exception {
    try (SkeinProcess p = skein("schema", Map.of("SKEIN_PLUGINS", jars.resolve("shout").toString()), "schema")) {
      assertEquals(0, p.awaitExit(Duration.ofMinutes(1)), p.output());
      assertTrue(p.output().contains("\"shout\"") && p.output().contains("The field in capitals."), p.output());
    }
  }

  @Test
  void whatCannotLoadIsRefusedSayingWhy() throws Exception {
    Path spec = Files.writeString(dir.resolve("shout.yaml"), SPEC);
    Map<String, String> cases = Map.of(
        jars.resolve("clash").toString(), "plugin.clash.OtherLlm in clash.jar: there is already a step kind named `llm`",
        jars.resolve("nothing").toString(), "no step kind in 1 jar(s); a plugin lists its kinds in META-INF/services/io.skein.worker.step.StepKind",
        dir.resolve("absent").toString(), "not a jar or a directory of jars",
        dir.toString(), "no .jar in it");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      try (SkeinProcess p = skein("refused", Map.of(), "validate", spec.toString(), "--plugins", c.getKey())) {
        assertEquals(2, p.awaitExit(Duration.ofMinutes(1)), p.output());
        assertTrue(p.output().contains("skein: --plugins " + c.getKey() + ": ") && p.output().contains(c.getValue()), p.output());
        assertFalse(p.output().contains("\tat "), "no stack trace: " + p.output());
      }
    }
  }

  private SkeinProcess skein(String name, Map<String, String> env, String... args) throws IOException {
    return SkeinProcess.start(Files.createTempFile(dir, name, ".log"), env, args);
  }

  private static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      rows.add(new ObjectMapper().readTree(line));
    }
    return rows;
  }

  /** Compiles {@code source} against this test's classpath into {@code jars/<name>/<name>.jar}, listed as a StepKind or not. */
  private static void jar(String name, String className, String source, boolean listed) throws IOException {
    Path src = Files.createDirectories(jars.resolve("src-" + name));
    Path file = Files.writeString(src.resolve(className.substring(className.lastIndexOf('.') + 1) + ".java"), source);
    Path classes = Files.createDirectories(jars.resolve("classes-" + name));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int code = javac.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"), file.toString());
    assertEquals(0, code, "the plugin source compiles");
    Path jar = Files.createDirectories(jars.resolve(name)).resolve(name + ".jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); var walk = Files.walk(classes)) {
      for (Path f : walk.filter(Files::isRegularFile).toList()) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        out.write(Files.readAllBytes(f));
        out.closeEntry();
      }
      if (listed) {
        out.putNextEntry(new JarEntry("META-INF/services/io.skein.worker.step.StepKind"));
        out.write((className + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        out.closeEntry();
      }
    }
  }
}
