package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code skein run} on an embedded H2 whose disk fills up mid-job (a small tmpfs): the run stops
 * with one line saying the disk is short and what to do, instead of hanging while H2 fails every
 * write; given room, the same command resumes the job and finishes it.
 */
@Tag("scenario")
class DiskFullTest {

  @Test
  void aFullDiskStopsTheRunSayingSoAndTheSameCommandResumesWithRoom() throws Exception {
    Path base = Files.createTempDirectory("skein-disk-full");
    Path disk = base.resolve("disk");
    Files.createDirectories(disk);
    Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", disk.toString()) == 0,
        "disk-full test skipped: a small tmpfs cannot be mounted here (needs root)");
    try {
      Path config = base.resolve("disk.conf");
      Files.writeString(config, "skein.db.min-free-disk = 16m\n");
      Path spec = base.resolve("fill.yaml");
      Files.writeString(spec, """
          name: fill
          models: {m: {model: sim-small, max_tokens: 400}}
          input: {num_records: 12000}
          steps:
            - {name: a, model: m, prompt: "Write at length about {{ index }}"}
          """);
      String[] args = {"run", spec.toString(), "--data-dir", disk.resolve("data").toString(), "--config", config.toString(),
          "--output", base.resolve("rows.jsonl").toString(), "-q"};
      Map<String, String> env = Map.of("SKEIN_SIM_LATENCY", "1ms");
      try (SkeinProcess full = SkeinProcess.start(base.resolve("full.log"), env, args)) {
        assertEquals(1, full.awaitExit(Duration.ofMinutes(4)), "the run stops, it does not hang: " + tail(full.output()));
        assertTrue(full.output().contains("MiB free on the disk of") && full.output().contains("run the same command again"),
            tail(full.output()));
        assertFalse(full.output().contains("\tat "), "no stack trace: " + tail(full.output()));
      }
      assertEquals(0, run("mount", "-o", "remount,size=400m", disk.toString()));
      try (SkeinProcess resumed = SkeinProcess.start(base.resolve("resumed.log"), env, args)) {
        assertEquals(0, resumed.awaitExit(Duration.ofMinutes(4)), tail(resumed.output()));
        assertTrue(resumed.output().contains("succeeded: 12000 output rows"), tail(resumed.output()));
      }
      assertEquals(12000, Files.readAllLines(base.resolve("rows.jsonl")).size());
    } finally {
      run("umount", "-l", disk.toString());
    }
  }

  private static int run(String... command) throws Exception {
    Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) ? p.exitValue() : -1;
  }

  private static String tail(String output) {
    return output.length() > 3000 ? "..." + output.substring(output.length() - 3000) : output;
  }
}
