package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;

/**
 * A scrape parsed by the Prometheus project's own text-format parser (the Python client's
 * {@code prometheus_client.parser}), so a test sees what Prometheus would. The interpreter is
 * {@code SKEIN_TEST_PYTHON} ({@code .ci/run} makes a virtualenv with the package from the local
 * wheel index) or {@code python3}; without the package the test skips, saying so.
 */
final class PrometheusText {

  record Sample(String name, Map<String, String> labels, double value) {}

  private static final String PARSE = """
      import sys, json
      from prometheus_client.parser import text_string_to_metric_families
      out = []
      for family in text_string_to_metric_families(sys.stdin.read()):
          for s in family.samples:
              out.append({"name": s.name, "labels": s.labels, "value": s.value})
      print(json.dumps(out))
      """;

  private final List<Sample> samples;

  private PrometheusText(List<Sample> samples) {
    this.samples = samples;
  }

  static String python() {
    String configured = System.getenv("SKEIN_TEST_PYTHON");
    return configured == null || configured.isBlank() ? "python3" : configured;
  }

  /** Skips the calling test unless the parser can be run here. */
  static void assumeParser() throws Exception {
    int exit;
    try {
      Process p = new ProcessBuilder(python(), "-c", "import prometheus_client.parser").redirectErrorStream(true).start();
      exit = p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (IOException e) {
      exit = -1;
    }
    Assumptions.assumeTrue(exit == 0, "no Prometheus text parser: " + python() + " cannot import prometheus_client"
        + " (set SKEIN_TEST_PYTHON to a Python with prometheus-client, as .ci/run does)");
  }

  static PrometheusText parse(String scrape) throws Exception {
    Process p = new ProcessBuilder(python(), "-c", PARSE).start();
    p.getOutputStream().write(scrape.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("the Prometheus parser refused the scrape: " + err + "\n" + scrape);
    }
    List<Sample> samples = new ArrayList<>();
    for (JsonNode s : Http.JSON.readTree(out)) {
      Map<String, String> labels = new TreeMap<>();
      s.get("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
      samples.add(new Sample(s.get("name").asText(), labels, s.get("value").asDouble()));
    }
    return new PrometheusText(samples);
  }

  /** The sum of the samples named {@code name} whose labels include {@code labels}. */
  double sum(String name, Map<String, String> labels) {
    return matching(name, labels).stream().mapToDouble(Sample::value).sum();
  }

  List<Sample> matching(String name, Map<String, String> labels) {
    Predicate<Sample> has = s -> s.labels().entrySet().containsAll(labels.entrySet());
    return samples.stream().filter(s -> s.name().equals(name) && has.test(s)).toList();
  }

  boolean has(String name) {
    return samples.stream().anyMatch(s -> s.name().equals(name));
  }
}
