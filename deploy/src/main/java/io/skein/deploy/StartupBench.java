package io.skein.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code skein bench --startup N}: the wall time of {@code skein run} of a 1-record, 1-call job
 * against the built-in simulator (one 300 ms answer), as a user types it, from process start to
 * exit: {@code java -jar skein.jar run} and {@code bin/skein run} (which starts with the build's
 * class-data-sharing archive), each run N times, alternating, each with a fresh data dir.
 */
final class StartupBench {

  static final String SPEC = """
      name: one
      models:
        writer: {model: sim-small}
      input: {num_records: 1}
      steps:
        - {name: answer, model: writer, prompt: "Say hello"}
      """;

  private StartupBench() {}

  /** The table of wall times; a run that does not exit 0 within a minute stops the bench, saying why. */
  static String run(int runs) throws Exception {
    Path jar = RunningJar.path();
    if (!jar.toString().endsWith(".jar")) {
      throw new IllegalStateException("bench --startup times the jar: run it as java -jar skein.jar bench --startup N");
    }
    Path dir = Files.createTempDirectory("skein-startup");
    Path spec = Files.writeString(dir.resolve("one.yaml"), SPEC);
    String java = RunningJar.java();
    Map<String, List<String>> variants = new LinkedHashMap<>();
    variants.put("java -jar skein.jar run", List.of(java, "-jar", jar.toString()));
    Path launcher = launcher(jar);
    if (launcher != null) {
      variants.put("bin/skein run (CDS archive)", List.of("sh", launcher.toString()));
    } else {
      System.err.println("bench: no bin/skein found beside the jar or in its checkout; timing java -jar only");
    }
    Map<String, List<Long>> times = new LinkedHashMap<>();
    variants.keySet().forEach(v -> times.put(v, new ArrayList<>()));
    int n = 0;
    for (int i = 0; i < runs; i++) {
      for (var variant : variants.entrySet()) {
        times.get(variant.getKey()).add(once(variant.getValue(), jar, java, spec, dir.resolve("run-" + n++)));
      }
    }
    StringBuilder out = new StringBuilder("| command | runs | median | min | max |\n| --- | --- | --- | --- | --- |\n");
    times.forEach((name, ms) -> {
      List<Long> sorted = ms.stream().sorted().toList();
      out.append(String.format(Locale.ROOT, "| %s | %d | %.2f s | %.2f s | %.2f s |%n", name, sorted.size(),
          sorted.get(sorted.size() / 2) / 1e3, sorted.get(0) / 1e3, sorted.get(sorted.size() - 1) / 1e3));
    });
    return out.toString();
  }

  private static long once(List<String> command, Path jar, String java, Path spec, Path work) throws Exception {
    Files.createDirectories(work);
    List<String> args = new ArrayList<>(command);
    args.addAll(List.of("run", spec.toString(), "--data-dir", work.resolve("data").toString(), "--output",
        work.resolve("out.jsonl").toString(), "-q"));
    ProcessBuilder pb = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(work.resolve("log.txt").toFile());
    pb.environment().put("SKEIN_JAR", jar.toString());
    pb.environment().put("JAVA_HOME", Path.of(java).getParent().getParent().toString());
    long start = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", args) + " did not end within 60 s; its log: " + work.resolve("log.txt"));
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    if (p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", args) + " exited " + p.exitValue() + ": " + Files.readString(work.resolve("log.txt")));
    }
    return ms;
  }

  /** bin/skein beside the jar (a distribution) or in the checkout it was built in (deploy/target/skein.jar). */
  static Path launcher(Path jar) {
    for (Path candidate : new Path[] {jar.resolveSibling("skein"), jar.getParent().resolve("../../bin/skein").normalize()}) {
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
