package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No test can hang the build: every polling loop in the test sources of every module (a loop that
 * sleeps between looks, such as an {@code afterKill} waiting for a count to stand still) names a
 * deadline in its condition or its body. A loop that waits on a condition alone would wait for ever
 * the day that condition breaks. As a backstop, {@code junit-platform.properties} gives every test a
 * default timeout.
 */
class WaitLoopsHaveDeadlinesTest {

  @Test
  void everyPollingLoopInTheTestsHasADeadline() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<Path> sources;
    try (Stream<Path> files = Files.walk(root)) {
      sources = files.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/test/java/")
          && !p.toString().contains("/target/")).toList();
    }
    assertTrue(sources.size() > 20, "found the test sources under " + root + ": " + sources.size());
    List<String> unbounded = new ArrayList<>();
    int loops = 0;
    for (Path file : sources) {
      List<String> lines = Files.readAllLines(file);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (!line.startsWith("while (") && !line.startsWith("} while (") && !line.equals("do {")) {
          continue;
        }
        if (line.startsWith("} while (")) {
          continue; // the condition of a do-loop, checked with its body at the `do {`
        }
        String loop = loopText(lines, i);
        if (!loop.contains("Thread.sleep(")) {
          continue; // iterates over something; it does not wait
        }
        loops++;
        String lower = loop.toLowerCase(Locale.ROOT);
        if (!lower.contains("deadline") && !lower.contains("timeout")) {
          unbounded.add(root.relativize(file) + ":" + (i + 1) + ": " + line);
        }
      }
    }
    assertTrue(loops >= 5, "the check saw the polling loops there are: " + loops);
    assertTrue(unbounded.isEmpty(), "polling loops without a deadline:\n" + String.join("\n", unbounded));
  }

  /** The loop starting at line {@code start}: its header and its braced body (with a do-loop's trailing condition). */
  private static String loopText(List<String> lines, int start) {
    StringBuilder text = new StringBuilder();
    int depth = 0;
    boolean opened = false;
    for (int i = start; i < lines.size(); i++) {
      String line = lines.get(i);
      text.append(line).append('\n');
      for (char c : line.toCharArray()) {
        if (c == '{') {
          depth++;
          opened = true;
        } else if (c == '}') {
          depth--;
        }
      }
      if (opened && depth <= 0) {
        break;
      }
    }
    return text.toString();
  }
}
