package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Generated bad requests against a real node: mutated specs (wrong types, unknown keys, huge strings,
 * deep nesting, hostile templates), malformed JSON, YAML, JSONL, CSV and multipart bodies, bytes
 * that are not UTF-8, wrong content types, oversized bodies, unknown ids, methods not allowed. Every
 * answer is a 2xx (the mutation happened to be valid) or a 4xx {@code application/problem+json}
 * with a message, never a 5xx, a stack trace or a hang; the node then still runs a job to the end.
 *
 * <p>Each request is generated from the seed and its number {@code i}: a failure prints both, and
 * {@code -Dskein.fuzz.seed=S -Dskein.fuzz.only=I} replays that one request.
 */
class HttpFuzzTest {

  private static final int REQUESTS = Integer.getInteger("skein.fuzz.requests", 1200);
  private static final String SPEC = """
      name: fuzz
      seed: 3
      models:
        writer: {model: sim-small, temperature: 0.7, max_tokens: 40}
        judge: {model: sim-large}
      input: {num_records: 2}
      steps:
        - {name: category, kind: sampler, sampler: category, values: [a, b, c]}
        - {name: question, model: writer, system: "You are a customer.", prompt: "Ask about {{ category }} {{ index }}."}
        - {name: answer, model: writer, prompt: "{{ question }}", when: "category != 'c'"}
        - name: rating
          kind: llm-judge
          model: judge
          prompt: "Q: {{ question }}"
          scores: [{name: clarity, description: "Is it clear?", options: {1: "No", 5: "Yes"}}]
        - {name: label, kind: expression, expr: "{{ 'x' if rating.clarity.score > 2 else 'y' }}"}
      processors:
        - {name: chat, template: {messages: [{role: user, content: "{{ question }}"}]}}
      retry: {max_attempts: 2, initial_backoff: 10ms}
      """;
  private static final List<String> HOSTILE = List.of(
      "{{ ''.getClass().forName('java.lang.Runtime').getRuntime().exec('id') }}",
      "{% set ji = ''.getClass().forName('com.hubspot.jinjava.Jinjava').newInstance().newInterpreter() %}{{ ji.render('{{1*2}}') }}",
      "{{ ____int3rpr3t3r____.config.objectMapper }}",
      "{{ ____int3rpr3t3r____.render('{{ index }}') }}",
      "{{ index.__class__.__mro__ }}",
      "{{ range(10)|map('getClass')|list }}",
      "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}",
      "{{ range(1000000000)|length }}",
      "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}",
      "{% include '/etc/passwd' %}",
      "{{ 'x' * 999999999 }}",
      "{% for i in range(1000) %}{{ 'y' * 1000 }}{% endfor %}");

  private static SkeinNode node;
  private static Http http;
  private static final YAMLMapper YAML = new YAMLMapper();

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("skein-fuzz-test");
    Path config = dir.resolve("test.conf");
    Files.writeString(config, "skein.simulator.latency = 1ms\nskein.http.max-request-size = 256k\n");
    node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true));
    http = new Http(node.httpPort());
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  /** One generated request. */
  private record Request(String what, String method, String path, String contentType, byte[] body) {}

  @Test
  void everyBadRequestIsA4xxProblemAndTheNodeStillRunsAJob() throws Exception {
    long seed = Long.getLong("skein.fuzz.seed", System.nanoTime());
    Integer only = Integer.getInteger("skein.fuzz.only");
    System.out.println("[fuzz] seed " + seed + ", " + REQUESTS + " requests (replay one: -Dskein.fuzz.seed=" + seed + " -Dskein.fuzz.only=I)");
    List<String> failures = new ArrayList<>();
    int[] statuses = new int[6];
    for (int i = only != null ? only : 0; i < (only != null ? only + 1 : REQUESTS); i++) {
      Request r = generate(new Random(seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L));
      if (only != null) {
        System.out.println("[fuzz] #" + i + " " + r.what() + " " + r.method() + " " + r.path() + " " + r.contentType() + "\n"
            + abbreviate(new String(r.body() == null ? new byte[0] : r.body(), StandardCharsets.UTF_8), 4000));
      }
      Http.Response answer;
      try {
        answer = r.body() != null && r.body().length > 256 * 1024 ? http.rawRequest(r.method(), r.path(), r.contentType(), r.body())
            : http.request(r.method(), r.path(), r.contentType(), r.body());
      } catch (java.net.http.HttpTimeoutException e) {
        failures.add("#" + i + " " + r.what() + " " + r.method() + " " + abbreviate(r.path(), 100) + ": no answer in 60 s");
        continue;
      } catch (java.io.IOException e) {
        failures.add("#" + i + " " + r.what() + " " + r.method() + " " + abbreviate(r.path(), 100) + ": the connection ended without an answer ("
            + e.getMessage() + ")");
        continue;
      }
      statuses[answer.status() / 100]++;
      String problem = r.method().equals("HEAD") ? (answer.status() >= 500 ? "status " + answer.status() : null) : check(answer);
      if (problem != null) {
        failures.add("#" + i + " " + r.what() + " " + r.method() + " " + abbreviate(r.path(), 100) + ": " + problem);
      }
      if (answer.status() == 201 && r.path().equals("/jobs")) {
        http.post("/jobs/" + answer.json().get("id").asText() + "/cancel", "application/json", "");
      }
    }
    System.out.println("[fuzz] answers: 2xx " + statuses[2] + ", 4xx " + statuses[4] + ", 5xx " + statuses[5]);
    assertTrue(failures.isEmpty(), failures.size() + " bad answers (seed " + seed + "):\n" + String.join("\n",
        failures.subList(0, Math.min(20, failures.size()))));
    if (only == null) {
      assertTrue(statuses[4] > REQUESTS / 2, "most generated requests are bad ones: " + statuses[4] + " 4xx");
    }

    String id = http.submitJob(SPEC, null);
    JsonNode status = http.awaitState(id, "succeeded", Duration.ofMinutes(2));
    assertEquals(2, status.get("succeeded").asInt() + status.get("failed").asInt(), status.toString());
  }

  /** Null when the answer is one a user can live with; else what is wrong with it. */
  private static String check(Http.Response answer) {
    String body = answer.body();
    if (answer.status() >= 500) {
      return "status " + answer.status() + ": " + abbreviate(body, 300);
    }
    if (body.contains("\tat ") || body.matches("(?s).*\\bat (io\\.skein|org\\.apache|java\\.|scala\\.)[\\w.$]+\\(.*")) {
      return "a stack trace in the answer: " + abbreviate(body, 300);
    }
    if (answer.status() >= 400) {
      if (!answer.contentType().startsWith("application/problem+json")) {
        return "status " + answer.status() + " as " + answer.contentType() + ", not application/problem+json: " + abbreviate(body, 200);
      }
      JsonNode problem;
      try {
        problem = Http.JSON.readTree(body);
      } catch (Exception e) {
        return "a problem that is not JSON: " + abbreviate(body, 200);
      }
      if (problem.path("detail").asText("").isBlank()) {
        return "a problem without a detail: " + abbreviate(body, 200);
      }
    }
    return null;
  }

  private static Request generate(Random random) throws Exception {
    int kind = random.nextInt(100);
    if (kind < 35) {
      ObjectNode body = JsonNodeFactory.instance.objectNode();
      JsonNode spec = YAML.readTree(SPEC);
      String what = mutate(spec, random);
      body.set("spec", spec);
      if (random.nextBoolean()) {
        ArrayNode records = body.putArray("records");
        for (int i = 0, n = random.nextInt(4); i < n; i++) {
          records.add(random.nextInt(5) == 0 ? randomValue(random, 2) : JsonNodeFactory.instance.objectNode().put("id", "r" + i).put("x", i));
        }
        if (random.nextInt(4) == 0) {
          what += " + records";
          if (spec.get("input") instanceof ObjectNode input) {
            input.remove("num_records");
          }
        }
      }
      return new Request("json spec: " + what, "POST", random.nextInt(4) == 0 ? "/jobs/preview?n=1" : "/jobs",
          "application/json", body.toString().getBytes(StandardCharsets.UTF_8));
    }
    if (kind < 50) {
      String text = mutateText(SPEC, random);
      return new Request("yaml text", "POST", random.nextInt(5) == 0 ? "/jobs/preview" : "/jobs",
          random.nextBoolean() ? "application/yaml" : "text/plain", text.getBytes(StandardCharsets.UTF_8));
    }
    if (kind < 63) {
      return malformedBody(random);
    }
    if (kind < 78) {
      return multipart(random);
    }
    if (kind < 95) {
      return oddRequest(random);
    }
    if (kind < 97) {
      byte[] big = new byte[300 * 1024];
      java.util.Arrays.fill(big, (byte) 'a');
      return new Request("oversized body", "POST", "/jobs", random.nextBoolean() ? "application/json" : "application/yaml", big);
    }
    JsonNode spec = YAML.readTree(SPEC);
    String attack = HOSTILE.get(random.nextInt(HOSTILE.size()));
    ((ObjectNode) spec.get("steps").get(1)).put(random.nextBoolean() ? "prompt" : "system", attack);
    ((ObjectNode) spec.get("input")).put("num_records", 1);
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.set("spec", spec);
    return new Request("hostile template " + attack, "POST", random.nextBoolean() ? "/jobs/preview?n=1" : "/jobs", "application/json",
        body.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Replaces, removes or adds one node somewhere in the spec; says what it did. */
  private static String mutate(JsonNode root, Random random) {
    List<JsonNode> containers = new ArrayList<>();
    collect(root, containers);
    JsonNode target = containers.get(random.nextInt(containers.size()));
    if (target instanceof ObjectNode o) {
      List<String> names = new ArrayList<>();
      o.fieldNames().forEachRemaining(names::add);
      int op = random.nextInt(4);
      if (op == 0 || names.isEmpty()) {
        String key = random.nextBoolean() ? "unknown_" + random.nextInt(100) : names.isEmpty() ? "k" : names.get(0) + "s";
        o.set(key, randomValue(random, 3));
        return "added " + key;
      }
      String name = names.get(random.nextInt(names.size()));
      if (op == 1) {
        o.remove(name);
        return "removed " + name;
      }
      o.set(name, randomValue(random, 3));
      return "replaced " + name;
    }
    ArrayNode a = (ArrayNode) target;
    if (a.isEmpty() || random.nextBoolean()) {
      a.add(randomValue(random, 3));
      return "appended to a list";
    }
    a.set(random.nextInt(a.size()), randomValue(random, 3));
    return "replaced a list element";
  }

  private static void collect(JsonNode node, List<JsonNode> out) {
    if (node.isContainerNode()) {
      out.add(node);
      node.forEach(child -> collect(child, out));
    }
  }

  private static JsonNode randomValue(Random random, int depth) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return switch (random.nextInt(depth <= 0 ? 7 : 10)) {
      case 0 -> f.nullNode();
      case 1 -> f.booleanNode(random.nextBoolean());
      case 2 -> f.numberNode(random.nextInt(5) == 0 ? Long.MAX_VALUE : random.nextInt(2001) - 1000);
      case 3 -> f.numberNode(random.nextDouble() * 1e6 - 5e5);
      case 4 -> f.textNode(randomText(random));
      case 5 -> f.textNode("x".repeat(random.nextInt(3) == 0 ? 100_000 : random.nextInt(50)));
      case 6 -> f.textNode(HOSTILE.get(random.nextInt(HOSTILE.size())));
      case 7 -> {
        ArrayNode a = f.arrayNode();
        for (int i = 0, n = random.nextInt(4); i < n; i++) {
          a.add(randomValue(random, depth - 1));
        }
        yield a;
      }
      case 8 -> {
        ObjectNode o = f.objectNode();
        for (int i = 0, n = random.nextInt(4); i < n; i++) {
          o.set(List.of("name", "model", "kind", "prompt", "values", "type", "x").get(random.nextInt(7)), randomValue(random, depth - 1));
        }
        yield o;
      }
      default -> {
        JsonNode deep = f.textNode("bottom");
        for (int i = 0, n = 50 + random.nextInt(300); i < n; i++) {
          deep = random.nextBoolean() ? f.arrayNode().add(deep) : f.objectNode().set("d", deep);
        }
        yield deep;
      }
    };
  }

  private static String randomText(Random random) {
    String[] pieces = {"{{", "}}", "{%", "%}", "{#", "'", "\"", "\\", ":", "-", "\n", "\t", "\u0000", "\uFFFF", "\uD800", "é", "名前",
        "{{ index }}", "{{ nope }}", "${x}", "%s", "sim-", "..", "/", "<script>"};
    StringBuilder sb = new StringBuilder();
    for (int i = 0, n = 1 + random.nextInt(8); i < n; i++) {
      sb.append(pieces[random.nextInt(pieces.length)]);
    }
    return sb.toString();
  }

  /** Text-level damage to the YAML: deleted spans, inserted YAML syntax, aliases, tags. */
  private static String mutateText(String yaml, Random random) {
    StringBuilder sb = new StringBuilder(yaml);
    String[] inserts = {":", " - ", "{", "}", "[", "]", "\t", "&a ", "*a", "!!python/object:os.system ", "!!binary x", "---\n", "? ",
        "|", ">", "#", "\"", "'", "%YAML 1.1\n", "\u0000", "<<: *a\n", "\n  - {name: z, model: writer, prompt: {{ q }}}\n"};
    for (int i = 0, n = 1 + random.nextInt(3); i < n; i++) {
      int at = random.nextInt(sb.length());
      if (random.nextBoolean()) {
        sb.delete(at, Math.min(sb.length(), at + 1 + random.nextInt(40)));
      } else {
        sb.insert(at, inserts[random.nextInt(inserts.length)]);
      }
    }
    if (random.nextInt(20) == 0) {
      // A billion laughs.
      StringBuilder bomb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
      for (char c = 'b'; c <= 'j'; c++) {
        bomb.append(c).append(": &").append(c).append(" [").append(("*" + (char) (c - 1) + ",").repeat(9)).append("*").append((char) (c - 1)).append("]\n");
      }
      return bomb.toString();
    }
    return sb.toString();
  }

  private static Request malformedBody(Random random) {
    String[] types = {"application/json", "application/yaml", "text/plain", "application/x-ndjson", "text/csv", "application/xml",
        "application/octet-stream", "multipart/form-data", "application/json; charset=latin1", "", "image/png"};
    String type = types[random.nextInt(types.length)];
    byte[] body = switch (random.nextInt(7)) {
      case 0 -> randomBytes(random, random.nextInt(2000));
      case 1 -> {
        String json = "{\"spec\": {\"name\": \"x\", \"steps\": [{\"name\": \"a\", \"prompt\": \"hi\"}]}, \"records\": [{\"a\": 1}]}";
        yield json.substring(0, random.nextInt(json.length())).getBytes(StandardCharsets.UTF_8);
      }
      case 2 -> (random.nextBoolean() ? "[".repeat(5000) : "{\"a\":".repeat(3000)).getBytes(StandardCharsets.UTF_8);
      case 3 -> new byte[] {(byte) 0xff, (byte) 0xfe, 'n', 0, 'a', 0, (byte) 0xc3, (byte) 0x28};
      case 4 -> "null".getBytes(StandardCharsets.UTF_8);
      case 5 -> "[1, 2, 3]".getBytes(StandardCharsets.UTF_8);
      default -> new byte[0];
    };
    String path = List.of("/jobs", "/jobs/preview", "/jobs/preview?n=2").get(random.nextInt(3));
    return new Request("malformed body as " + type, "POST", path, type.isEmpty() ? null : type, body);
  }

  private static Request multipart(Random random) {
    String boundary = "fuzz" + random.nextInt(1000);
    StringBuilder sb = new StringBuilder();
    List<String> parts = new ArrayList<>(List.of("spec", "records"));
    if (random.nextInt(4) == 0) {
      parts.remove(random.nextInt(parts.size()));
    }
    if (random.nextInt(5) == 0) {
      parts.add(List.of("spec", "records", "extra", "").get(random.nextInt(4)));
    }
    String[] recordBodies = {"{\"id\": \"a\", \"x\": 1}\n{\"id\": \"a\", \"x\": 2}\n", "not json at all\n{\"x\":}\n", "a,b\n1,2\n\"unclosed\n",
        "PAR1garbagePAR1", "{\"id\": {\"o\": 1}}\n", "\n\n\n", "[1,2]\n\"s\"\n"};
    String[] names = {"records.jsonl", "r.csv", "r.parquet", "", "../../etc/passwd", "r.xlsx"};
    for (String part : parts) {
      sb.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(part).append('"');
      if (part.equals("records")) {
        sb.append("; filename=\"").append(names[random.nextInt(names.length)]).append('"');
      }
      sb.append("\r\n\r\n");
      sb.append(part.equals("spec") ? (random.nextBoolean() ? SPEC.replace("input: {num_records: 2}\n", "") : mutateText(SPEC, random))
          : recordBodies[random.nextInt(recordBodies.length)]);
      sb.append("\r\n");
    }
    if (random.nextInt(4) != 0) {
      sb.append("--").append(boundary).append("--\r\n");
    }
    String header = switch (random.nextInt(5)) {
      case 0 -> "multipart/form-data";
      case 1 -> "multipart/form-data; boundary=other";
      case 2 -> "multipart/mixed; boundary=" + boundary;
      default -> "multipart/form-data; boundary=" + boundary;
    };
    byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
    if (random.nextInt(6) == 0 && body.length > 10) {
      body[random.nextInt(body.length)] = (byte) 0xff;
    }
    return new Request("multipart " + parts + " as " + header, "POST", random.nextInt(5) == 0 ? "/jobs/preview" : "/jobs", header, body);
  }

  private static Request oddRequest(Random random) {
    String[] methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    String id = List.of("job-0000000000000000", "nope", "%00", "..%2F..%2Fetc", "x".repeat(3000), "j%C3%A9", "%FF", "job-1;drop%20table")
        .get(random.nextInt(8));
    String[] paths = {"/jobs", "/jobs/" + id, "/jobs/" + id + "/results", "/jobs/" + id + "/errors", "/jobs/" + id + "/datasets/chat",
        "/jobs/" + id + "/cancel", "/jobs/" + id + "/pause", "/jobs/" + id + "/resume", "/jobs/" + id + "/stages/x/results",
        "/jobs/preview?n=" + List.of("0", "-1", "abc", "100000", "1e3", "").get(random.nextInt(6)),
        "/jobs/" + id + "/results?annotated=" + List.of("maybe", "1", "").get(random.nextInt(3)) + "&format=" + List.of("xml", "parquet", "").get(random.nextInt(3)),
        "/schema", "/health", "/cluster", "/cluster/records", "/cluster/models", "/nothing", "/" + "a/".repeat(200), "/jobs//results"};
    String path = paths[random.nextInt(paths.length)];
    String method = methods[random.nextInt(methods.length)];
    byte[] body = method.equals("POST") || method.equals("PUT") || method.equals("PATCH") ? randomBytes(random, random.nextInt(100)) : null;
    return new Request("odd request", method, path, body == null ? null : "application/json", body);
  }

  private static byte[] randomBytes(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static String abbreviate(String s, int n) {
    return s.length() > n ? s.substring(0, n) + "..." : s;
  }
}
