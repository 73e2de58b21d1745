package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/skein with the jar and the class-data-sharing archive this build made (run by failsafe after
 * {@code package}): it starts from the archive, and with an archive that does not fit (another
 * jar, one rebuilt since) it runs the same, silently, without it.
 */
class LauncherIT {

  private static final Path JAR = Path.of("target/skein.jar").toAbsolutePath();
  private static final Path LAUNCHER = Path.of("../bin/skein").toAbsolutePath().normalize();

  record Run(int exit, String log, String classes) {}

  @Test
  void startsFromTheArchiveTheBuildMade(@TempDir Path dir) throws Exception {
    assumeTrue(archive(JAR.getParent()) != null, "no CDS archive in target/: the build ran with -Dskein.cds.skip");
    Run run = run(dir, Map.of());
    assertEquals(0, run.exit(), run.log());
    assertTrue(run.log().contains("1 output rows"), run.log());
    assertTrue(run.classes().contains("io.skein.deploy.Main source: shared objects file (top)"),
        "Skein's classes come from the archive");
    assertFalse(run.log().contains("[cds"), run.log());
  }

  @Test
  void anArchiveThatDoesNotFitTheJarIsLeftAloneWithoutAWord(@TempDir Path dir) throws Exception {
    Path built = archive(JAR.getParent());
    assumeTrue(built != null, "no CDS archive in target/: the build ran with -Dskein.cds.skip");
    // The same jar and archive elsewhere, then the jar "rebuilt": the JVM refuses the archive.
    Path jar = Files.copy(JAR, dir.resolve("skein.jar"), StandardCopyOption.COPY_ATTRIBUTES);
    Files.copy(built, dir.resolve(built.getFileName()));
    Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
    Run run = run(dir, Map.of("SKEIN_JAR", jar.toString()));
    assertEquals(0, run.exit(), run.log());
    assertTrue(run.log().contains("1 output rows"), run.log());
    assertFalse(run.log().contains("[cds"), "no archive warnings: " + run.log());
    assertFalse(run.classes().contains("io.skein.deploy.Main source: shared objects file"), "the stale archive is not used");
  }

  @Test
  void skeinCdsOffRunsWithoutTheArchive(@TempDir Path dir) throws Exception {
    Run run = run(dir, Map.of("SKEIN_CDS", "off"));
    assertEquals(0, run.exit(), run.log());
    assertFalse(run.classes().contains("io.skein.deploy.Main source: shared objects file"));
  }

  private static Path archive(Path beside) throws Exception {
    try (Stream<Path> files = Files.list(beside)) {
      return files.filter(f -> f.getFileName().toString().matches("skein-.*\\.jsa")).findFirst().orElse(null);
    }
  }

  private static Run run(Path dir, Map<String, String> env) throws Exception {
    Path spec = Files.writeString(dir.resolve("one.yaml"), StartupBench.SPEC);
    Path classes = dir.resolve("classes.txt");
    ProcessBuilder pb = new ProcessBuilder(List.of("sh", LAUNCHER.toString(), "run", spec.toString(), "--data-dir",
        dir.resolve("data").toString(), "--output", dir.resolve("out.jsonl").toString(), "-q"))
        .redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("SKEIN_JAR", JAR.toString());
    pb.environment().put("SKEIN_SIM_LATENCY", "5ms");
    pb.environment().put("JAVA_OPTS", "-Xlog:class+load=info:file=" + classes);
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("bin/skein run did not end within 120 s: " + Files.readString(dir.resolve("log.txt")));
    }
    return new Run(p.exitValue(), Files.readString(dir.resolve("log.txt")), Files.exists(classes) ? Files.readString(classes) : "");
  }
}
