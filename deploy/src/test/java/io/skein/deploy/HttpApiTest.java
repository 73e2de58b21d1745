package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP API of a real node (H2, built-in simulator, real HTTP on a free port). */
class HttpApiTest {

  private static final String SPEC = """
      name: api-test
      models:
        writer: {model: sim-small, temperature: 0.7, max_tokens: 60}
      steps:
        - name: question
          model: writer
          system: "You are a customer."
          prompt: "Write a question about {{ topic }}."
        - name: answer
          model: writer
          prompt: "{{ question }}"
      output:
        messages:
          - {role: user, content: "{{ question }}"}
          - {role: assistant, content: "{{ answer }}"}
      """;

  private static SkeinNode node;
  private static Http http;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("skein-http-test");
    Path config = dir.resolve("test.conf");
    Files.writeString(config, """
        skein.simulator.latency = 2ms
        skein.http.max-request-size = 256k
        skein.models.providers."broken" { base-url = "http://bad host/v1" }
        """);
    node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true));
    http = new Http(node.httpPort());
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  private static String jsonJob(String spec, int records) throws Exception {
    ObjectNode body = Http.JSON.createObjectNode();
    body.set("spec", Http.JSON.readTree(Http.JSON.writeValueAsString(
        new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(spec))));
    ArrayNode list = body.putArray("records");
    for (int i = 0; i < records; i++) {
      list.addObject().put("id", "r" + i).put("topic", "topic " + i);
    }
    return body.toString();
  }

  private static String submit(Http.Response r) {
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }

  @Test
  void aJsonJobRunsAndServesItsRowsAsNdjson() throws Exception {
    String id = submit(http.post("/jobs", "application/json", jsonJob(SPEC, 25)));
    JsonNode status = http.awaitState(id, "succeeded", Duration.ofSeconds(60));
    assertEquals(25, status.get("total").asInt());
    assertEquals(25, status.get("succeeded").asInt());
    assertEquals(0, status.get("failed").asInt());
    assertEquals(50, status.get("calls").asInt());
    assertTrue(status.get("tokens").asLong() > 0);

    Http.Response results = http.get("/jobs/" + id + "/results");
    assertTrue(results.contentType().startsWith("application/x-ndjson"), results.contentType());
    List<JsonNode> rows = results.lines();
    assertEquals(25, rows.size());
    assertEquals("r0", rows.get(0).get("id").asText());
    assertEquals(2, rows.get(0).get("messages").size());
    assertFalse(rows.get(0).has("calls"), "minimal rows carry no provenance");

    List<JsonNode> annotated = http.get("/jobs/" + id + "/results?annotated=true").lines();
    JsonNode first = annotated.get(0);
    assertEquals("topic 0", first.at("/input/topic").asText());
    assertEquals(2, first.get("calls").size());
    JsonNode answer = first.get("calls").get(1);
    assertEquals("answer", answer.get("step").asText());
    assertEquals(1, answer.get("attempts").asInt());
    assertTrue(answer.at("/usage/completion_tokens").asLong() > 0);
    assertEquals(first.at("/messages/0/content").asText(), answer.at("/messages/0/content").asText(),
        "the answer step was asked the question");
    Instant started = Instant.parse(first.at("/timings/started_at").asText());
    Instant finished = Instant.parse(first.at("/timings/finished_at").asText());
    assertTrue(started.isAfter(Instant.now().minus(Duration.ofMinutes(5))), "started_at is this run's: " + started);
    assertEquals(Duration.between(started, finished).toMillis(), first.at("/timings/duration_ms").asLong());

    assertEquals(0, http.get("/jobs/" + id + "/errors").lines().size());
    boolean listed = false;
    for (JsonNode j : http.get("/jobs").json().get("jobs")) {
      listed |= j.get("id").asText().equals(id);
    }
    assertTrue(listed, "GET /jobs lists the job");
  }

  @Test
  void aMultipartJobTurnsAMalformedLineIntoAnErrorRowWhileTheOthersRun() throws Exception {
    String records = "{\"id\": \"a\", \"topic\": \"tea\"}\n{\"id\": \"b\", \"topic\": oops}\n{\"id\": \"c\", \"topic\": \"coffee\"}\n";
    String id = submit(http.multipart("/jobs", SPEC, records));
    JsonNode status = http.awaitState(id, "succeeded", Duration.ofSeconds(60));
    assertEquals(3, status.get("total").asInt());
    assertEquals(2, status.get("succeeded").asInt());
    assertEquals(1, status.get("failed").asInt());
    List<JsonNode> errors = http.get("/jobs/" + id + "/errors").lines();
    assertEquals(1, errors.size());
    assertEquals("invalid_input", errors.get(0).at("/error/type").asText());
    assertTrue(errors.get(0).at("/error/message").asText().startsWith("line 2:"), errors.get(0).toString());
    assertEquals(List.of("a", "c"), http.get("/jobs/" + id + "/results").lines().stream().map(r -> r.get("id").asText()).toList());
  }

  @Test
  void aYamlSpecAloneGeneratesItsRecords() throws Exception {
    String spec = """
        name: generated
        models: {m: sim-small}
        input: {num_records: 7}
        steps:
          - name: idea
            model: m
            prompt: "Idea number {{ index }}"
        """;
    String id = submit(http.post("/jobs", "application/yaml", spec));
    assertEquals(7, http.awaitState(id, "succeeded", Duration.ofSeconds(60)).get("succeeded").asInt());
    JsonNode row = http.get("/jobs/" + id + "/results").lines().get(3);
    assertEquals(3, row.get("id").asInt(), "without an id field the row id is the index");
    assertTrue(row.get("idea").asText().startsWith("Regarding idea number 3"), "the prompt read the index: " + row);
  }

  @Test
  void theSchemaOfTheSpecLanguageIsServed() throws Exception {
    Http.Response r = http.get("/schema");
    assertEquals(200, r.status());
    JsonNode kinds = r.json().at("/properties/steps/items/properties/kind/enum");
    for (String kind : new String[] {"llm", "llm-code", "llm-structured", "llm-judge", "sampler", "expression", "validator"}) {
      assertTrue(kinds.toString().contains("\"" + kind + "\""), kinds.toString());
    }
  }

  @Test
  void aPreviewAnswersRowsAndKeepsNoJob() throws Exception {
    String spec = """
        name: preview
        models: {m: sim-small}
        input: {num_records: 50}
        steps:
          - {name: size, kind: sampler, sampler: category, values: [S, M, L]}
          - {name: pitch, model: m, prompt: "Pitch a size {{ size }} shirt, number {{ index }}"}
        """;
    int jobsBefore = http.get("/jobs").json().get("jobs").size();
    Http.Response r = http.post("/jobs/preview?n=3", "application/yaml", spec);
    assertEquals(200, r.status(), r.body());
    JsonNode rows = r.json();
    assertEquals(3, rows.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(i, rows.get(i).get("id").asInt());
      assertTrue(List.of("S", "M", "L").contains(rows.get(i).get("size").asText()));
      assertTrue(rows.get(i).get("pitch").asText().startsWith("Regarding shirt number " + i), rows.get(i).toString());
    }
    assertEquals(jobsBefore, http.get("/jobs").json().get("jobs").size(), "a preview keeps no job");
    assertEquals(400, http.post("/jobs/preview?n=0", "application/yaml", spec).status());
    JsonNode bad = problem(http.post("/jobs/preview", "application/yaml", spec.replace("sampler: category", "sampler: categry")), 400);
    assertTrue(bad.get("errors").get(0).get("path").asText().startsWith("steps[0] (size)"), bad.toString());
  }

  @Test
  void csvRecordsInDatasetsOutAndResultsAsParquet() throws Exception {
    String spec = """
        name: csv-in
        models: {m: sim-small}
        steps:
          - {name: reply, model: m, prompt: "Reply to {{ topic }} with {{ stars }} stars"}
        processors:
          - name: sft
            template: {prompt: "{{ topic }}", completion: "{{ reply }}", stars: "{{ stars }}"}
          - drop: [zip]
        """;
    String csv = "id,topic,stars,zip\nc1,tea,4,02139\nc2,\"maps, old\",5,10001\n";
    String id = submit(http.multipart("/jobs", spec, csv, "reviews.csv", "text/csv"));
    http.awaitState(id, "succeeded", Duration.ofSeconds(60));
    List<JsonNode> rows = http.get("/jobs/" + id + "/results").lines();
    assertEquals(2, rows.size());
    assertEquals("maps, old", rows.get(1).get("topic").asText());
    assertEquals(5, rows.get(1).get("stars").asInt());
    assertFalse(rows.get(0).has("zip"), "dropped by a processor");
    List<JsonNode> sft = http.get("/jobs/" + id + "/datasets/sft").lines();
    assertEquals(2, sft.size());
    assertEquals("tea", sft.get(0).get("prompt").asText());
    assertEquals(rows.get(0).get("reply").asText(), sft.get(0).get("completion").asText());
    assertTrue(sft.get(0).get("stars").isIntegralNumber());
    assertEquals(404, problem(http.get("/jobs/" + id + "/datasets/stf"), 404).get("status").asInt());

    Path parquet = Files.createTempFile("results", ".parquet");
    Files.write(parquet, http.bytes("/jobs/" + id + "/results?format=parquet"));
    List<JsonNode> back = new java.util.ArrayList<>();
    var it = io.skein.coordinator.job.InputFiles.parquet(parquet, new java.util.HashSet<>());
    while (it.hasNext()) {
      back.add(Http.JSON.readTree(it.next().record()));
    }
    assertEquals(rows, back, "the Parquet file holds the same rows");
  }

  @Test
  void nestedParquetRecordsReachTemplatesAndABrokenOneIsA400() throws Exception {
    String spec = """
        name: parquet-in
        models: {m: sim-small}
        steps:
          - {name: line, kind: expression, expr: "{{ product.name }} has {{ product.dims | length }} dims, {{ reviews | length }} reviews"}
        """;
    byte[] parquet = Files.readAllBytes(Path.of("../coordinator/src/test/resources/inputs/pyarrow-nested.parquet"));
    String id = submit(http.multipart("/jobs", spec, parquet, "nested.parquet", "application/vnd.apache.parquet"));
    http.awaitState(id, "succeeded", Duration.ofSeconds(60));
    List<JsonNode> rows = http.get("/jobs/" + id + "/results").lines();
    assertEquals(List.of("lamp has 2 dims, 1 reviews", "desk has 0 dims, 0 reviews"), rows.stream().map(r -> r.get("line").asText()).toList());
    assertEquals("red", rows.get(0).at("/attrs/color").asText(), "a map column is an object in the row");

    JsonNode bad = problem(http.multipart("/jobs", spec, "id,topic\n1,tea\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        "broken.parquet", "application/octet-stream"), 400);
    assertTrue(bad.toString().contains("broken.parquet is not a Parquet file"), bad.toString());
  }

  @Test
  void everySamplerRunsInAJobAndFeedsTheModel() throws Exception {
    String spec = """
        name: samplers
        seed: 3
        models: {m: sim-small}
        input: {num_records: 20}
        steps:
          - {name: category, kind: sampler, sampler: category, values: [a, b], weights: [1, 3]}
          - {name: sub, kind: sampler, sampler: subcategory, category: category, values: {a: [a1, a2], b: [b1]}}
          - {name: price, kind: sampler, sampler: uniform, low: 1, high: 9, convert_to: int}
          - {name: height, kind: sampler, sampler: gaussian, mean: 170, stddev: 5, decimal_places: 1}
          - {name: flag, kind: sampler, sampler: bernoulli, p: 0.5}
          - {name: heads, kind: sampler, sampler: binomial, params: {n: 4, p: 0.5}}
          - {name: visits, kind: sampler, sampler: poisson, mean: 2}
          - {name: ticket, kind: sampler, sampler: uuid, prefix: T-, short_form: true}
          - {name: opened, kind: sampler, sampler: datetime, start: "2025-01-01", end: "2025-01-31", unit: m}
          - {name: closed, kind: sampler, sampler: timedelta, dt_min: 1, dt_max: 3, unit: D, reference_column_name: opened,
             convert_to: "%Y-%m-%d"}
          - {name: person, kind: sampler, sampler: person, locale: de_DE, age_range: [30, 40]}
          - name: pitch
            model: m
            prompt: "{{ person.first_name }} buys {{ sub }} at {{ price }} on {{ closed }}, ticket {{ ticket }}, flag {{ flag }}, {{ heads }}, {{ visits }}, {{ height }}"
        """;
    String id = submit(http.post("/jobs", "application/yaml", spec));
    http.awaitState(id, "succeeded", Duration.ofSeconds(60));
    List<JsonNode> rows = http.get("/jobs/" + id + "/results?annotated=true").lines();
    assertEquals(20, rows.size());
    for (JsonNode row : rows) {
      assertTrue(List.of("a1", "a2", "b1").contains(row.get("sub").asText()) && row.get("sub").asText().startsWith(row.get("category").asText()));
      assertTrue(row.get("ticket").asText().matches("T-[0-9a-f]{8}"), row.toString());
      assertTrue(row.get("closed").asText().matches("2025-0[12]-\\d\\d"), row.toString());
      int age = row.at("/person/age").asInt();
      assertTrue(age >= 30 && age <= 40, row.toString());
      String prompt = row.at("/calls/0/messages/0/content").asText();
      assertTrue(prompt.startsWith(row.at("/person/first_name").asText() + " buys " + row.get("sub").asText() + " at " + row.get("price").asInt()
          + " on " + row.get("closed").asText() + ", ticket " + row.get("ticket").asText()), prompt);
    }
  }

  private static JsonNode problem(Http.Response r, int status) {
    assertEquals(status, r.status(), r.body());
    assertTrue(r.contentType().startsWith("application/problem+json"), r.contentType());
    JsonNode p = r.json();
    assertEquals(status, p.get("status").asInt());
    return p;
  }

  @Test
  void badSpecsAreRejectedWithTheStepAndField() throws Exception {
    JsonNode yaml = problem(http.post("/jobs", "application/yaml", "name: x\nsteps: [\n  - {name: a"), 400);
    assertTrue(yaml.get("detail").asText().contains("malformed YAML at line"), yaml.toString());

    JsonNode alias = problem(http.post("/jobs", "application/json", jsonJob(SPEC.replace("model: writer", "model: wrtier"), 1)), 400);
    assertEquals("steps[0] (question).model", alias.at("/errors/0/path").asText());
    assertTrue(alias.at("/errors/0/message").asText().contains("did you mean `writer`"), alias.toString());

    JsonNode variable = problem(http.post("/jobs", "application/json", jsonJob(SPEC.replace("{{ topic }}", "{{ topik }}"), 1)), 400);
    assertEquals("steps[0] (question).prompt", variable.at("/errors/0/path").asText());
    assertTrue(variable.at("/errors/0/message").asText().contains("unknown name `topik`"), variable.toString());

    String cycle = SPEC.replace("\"Write a question about {{ topic }}.\"", "\"{{ answer }}\"");
    JsonNode cyclic = problem(http.post("/jobs", "application/json", jsonJob(cycle, 1)), 400);
    assertTrue(cyclic.at("/errors/0/message").asText().contains("cycle"), cyclic.toString());

    problem(http.post("/jobs", "application/json", "{\"records\": []}"), 400);
    problem(http.post("/jobs", "application/json", "{not json"), 400);
    problem(http.post("/jobs", "text/csv", "a,b"), 415);
  }

  @Test
  void aModelNoProviderServesIsRefusedAtSubmissionNotAnsweredByTheSimulator() throws Exception {
    JsonNode unknown = problem(http.post("/jobs", "application/json", jsonJob(SPEC.replace("sim-small", "gpt-4o-mini"), 1)), 400);
    assertEquals("models.writer.model", unknown.at("/errors/0/path").asText(), unknown.toString());
    String message = unknown.at("/errors/0/message").asText();
    assertTrue(message.contains("no provider serves model `gpt-4o-mini`") && message.contains("used by steps question, answer")
        && message.contains("sim-*"), message);
    JsonNode preview = problem(http.post("/jobs/preview", "application/json", jsonJob(SPEC.replace("sim-small", "gpt-4o-mini"), 1)), 400);
    assertTrue(preview.toString().contains("no provider serves model `gpt-4o-mini`"), preview.toString());

    JsonNode broken = problem(http.post("/jobs", "application/json", jsonJob(SPEC.replace("sim-small", "broken"), 1)), 400);
    assertTrue(broken.at("/errors/0/message").asText().contains("base-url `http://bad host/v1` is not an http(s) URL"), broken.toString());
  }

  @Test
  void malformedBodiesAre400sNamingWhy() throws Exception {
    String deep = "{\"spec\": " + "[".repeat(3000) + "]".repeat(3000) + "}";
    assertTrue(problem(http.post("/jobs", "application/json", deep), 400).get("detail").asText().contains("nesting depth"));
    assertTrue(problem(http.post("/jobs", "multipart/form-data", "hello"), 400).get("detail").asText().contains("boundary"));
    assertTrue(problem(http.post("/jobs", "multipart/form-data; boundary=xyz", "--abc\r\nstuff\r\n--abc--\r\n"), 400)
        .get("detail").asText().contains("malformed multipart"));
    byte[] latin1 = "name: x\nmodels: {m: sim-small}\nsteps:\n  - {name: a, model: m, prompt: \"caf\u00e9\"}\n"
        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    JsonNode spec = problem(http.post("/jobs", "application/yaml", latin1), 400);
    assertTrue(spec.toString().contains("is not UTF-8"), spec.toString());
  }

  @Test
  void recordIdsNameRowsSoTheyAreUniqueScalarsAndRecordsComeFromOnePlace() throws Exception {
    String twice = "{\"id\": \"a\", \"topic\": \"tea\"}\n{\"id\": 7, \"topic\": \"x\"}\n{\"id\": \"a\", \"topic\": \"coffee\"}\n";
    JsonNode duplicate = problem(http.multipart("/jobs", SPEC, twice), 400);
    assertEquals("records", duplicate.at("/errors/0/path").asText(), duplicate.toString());
    assertTrue(duplicate.at("/errors/0/message").asText().contains("records 0 and 2 (counting from 0) both have id \"a\""), duplicate.toString());

    String objects = "{\"id\": {\"k\": 1}, \"topic\": \"tea\"}\n{\"id\": \"7\", \"topic\": \"x\"}\n{\"id\": 7, \"topic\": \"y\"}\n{\"topic\": \"z\"}\n";
    String id = submit(http.multipart("/jobs", SPEC, objects));
    http.awaitState(id, "succeeded", Duration.ofSeconds(60));
    List<JsonNode> errors = http.get("/jobs/" + id + "/errors").lines();
    assertEquals(1, errors.size(), errors.toString());
    assertEquals("invalid_input", errors.get(0).at("/error/type").asText());
    assertTrue(errors.get(0).at("/error/message").asText().contains("`id` must be a string or a number, got an object"), errors.toString());
    assertEquals(List.of("\"7\"", "7", "3"), http.get("/jobs/" + id + "/results").lines().stream().map(r -> r.get("id").toString()).toList(),
        "the string \"7\" and the number 7 are different ids; a record without one is named by its position");

    String inline = "name: x\nmodels: {m: sim-small}\ninput: {records: [{topic: a}]}\nsteps:\n  - {name: a, model: m, prompt: \"{{ topic }}\"}\n";
    JsonNode both = problem(http.multipart("/jobs", inline, "{\"topic\": \"b\"}\n"), 400);
    assertEquals("input.records", both.at("/errors/0/path").asText(), both.toString());
    assertTrue(both.at("/errors/0/message").asText().contains("records given twice"), both.toString());

    String boundary = "b0undary";
    String twoSpecs = ("--B\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n" + inline + "\r\n"
        + "--B\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n" + inline + "\r\n--B--\r\n").replace("B", boundary);
    JsonNode specs = problem(http.post("/jobs", "multipart/form-data; boundary=" + boundary, twoSpecs), 400);
    assertTrue(specs.toString().contains("given twice: send one `spec` part"), specs.toString());

    JsonNode typo = problem(http.post("/jobs", "application/json", "{\"spec\": {\"name\": \"x\"}, \"record\": []}"), 400);
    assertEquals("record", typo.at("/errors/0/path").asText(), typo.toString());
  }

  @Test
  void aRecordLineThatIsNotUtf8IsAnErrorRowAndTheOthersRun() throws Exception {
    String spec = "name: bytes\nmodels: {m: sim-small}\nsteps:\n  - {name: a, model: m, prompt: \"{{ topic }}\"}\n";
    byte[] records = "\uFEFF{\"topic\": \"bom\"}\n{\"topic\": \"caf_\"}\n{\"topic\": \"ok\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    records[new String(records, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf('_')] = (byte) 0xe9;
    String id = submit(http.multipart("/jobs", spec, records, "records.jsonl", "application/x-ndjson"));
    http.awaitState(id, "succeeded", Duration.ofSeconds(60));
    assertEquals(List.of("bom", "ok"), http.get("/jobs/" + id + "/results").lines().stream().map(r -> r.get("topic").asText()).toList());
    List<JsonNode> errors = http.get("/jobs/" + id + "/errors").lines();
    assertEquals(1, errors.size());
    assertEquals("invalid_input", errors.get(0).at("/error/type").asText());
    assertTrue(errors.get(0).at("/error/message").asText().startsWith("line 2: not UTF-8"), errors.get(0).toString());
  }

  @Test
  void aRequestUnderTheDocumentedLimitButOver8MiBIsAccepted(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    try (SkeinNode defaults = SkeinNode.start(new NodeOptions(dir.resolve("data"), null, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http other = new Http(defaults.httpPort());
      String nineMiB = jsonJob(SPEC, 1).replace("\"topic 0\"", "\"" + "x".repeat(9 * 1024 * 1024) + "\"");
      Http.Response created = other.post("/jobs", "application/json", nineMiB);
      assertEquals(201, created.status(), created.body().substring(0, Math.min(300, created.body().length())));
      // Over the limit: the server answers 413 as soon as it reads the declared length, before the body (a client still
      // sending 65 MiB may then see the connection close; so the request goes by hand, its headers and the body's start).
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", defaults.httpPort())) {
        socket.setSoTimeout(30_000);
        var out = socket.getOutputStream();
        out.write(("POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + (65L << 20)
            + "\r\n\r\n{\"spec\": ").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.flush();
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
        String status = in.readLine();
        assertTrue(status != null && status.startsWith("HTTP/1.1 413"), "status: " + status);
        List<String> headers = new java.util.ArrayList<>();
        for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
          headers.add(h.toLowerCase(java.util.Locale.ROOT));
        }
        assertTrue(headers.contains("content-type: application/problem+json"), headers.toString());
      }
    }
  }

  @Test
  void aJobLargerThanTheServerTakesIsA400() throws Exception {
    JsonNode p = problem(http.post("/jobs", "application/yaml", "name: huge\nmodels: {m: sim-small}\ninput: {num_records: 9223372036854775807}\n"
        + "steps:\n  - {name: a, model: m, prompt: '{{ index }}'}\n"), 400);
    assertEquals("input.num_records", p.at("/errors/0/path").asText(), p.toString());
    assertTrue(p.at("/errors/0/message").asText().contains("at most 10000000 per job"), p.toString());
  }

  @Test
  void theApiListensOnlyOnTheNodesHost() throws Exception {
    java.net.InetAddress outside = null;
    for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (var address : java.util.Collections.list(nic.getInetAddresses())) {
        if (address instanceof java.net.Inet4Address && !address.isLoopbackAddress() && nic.isUp()) {
          outside = address;
        }
      }
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(outside != null, "this machine has no address beyond loopback to try");
    try (java.net.Socket socket = new java.net.Socket()) {
      java.net.InetAddress target = outside;
      assertThrows(java.io.IOException.class, () -> socket.connect(new java.net.InetSocketAddress(target, node.httpPort()), 2000),
          "a node started with --host 127.0.0.1 is not reachable on " + target);
    }
    assertEquals(200, http.get("/health").status());
  }

  @Test
  void anOversizedRequestIs413() throws Exception {
    String big = jsonJob(SPEC, 1).replace("\"topic 0\"", "\"" + "x".repeat(300 * 1024) + "\"");
    JsonNode p = problem(http.post("/jobs", "application/json", big), 413);
    assertTrue(p.get("detail").asText().contains("max-request-size"), p.toString());
  }

  @Test
  void theClusterResourceListsThisNodeWithItsRecordsAndTheJobNamesItsCoordinator() throws Exception {
    String slow = """
        name: watched
        models: {m: sim-small}
        input: {num_records: 100000}
        max_in_flight: 20
        steps:
          - {name: a, model: m, prompt: "{{ index }}"}
        """;
    String id = submit(http.post("/jobs", "application/yaml", slow));
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      JsonNode member;
      do {
        JsonNode cluster = http.get("/cluster").json();
        assertEquals(1, cluster.get("members").size());
        member = cluster.get("members").get(0);
        assertEquals("up", member.get("status").asText());
        assertTrue(member.get("reachable").asBoolean());
        assertEquals(cluster.get("self").asText(), member.get("address").asText());
      } while ((member.get("records").asInt() == 0 || member.get("job_coordinators").asInt() == 0 || member.path("models").isEmpty())
          && System.nanoTime() < deadline);
      assertTrue(member.get("records").asInt() > 0 && member.get("records").asInt() <= 20, member.toString());
      JsonNode gateway = member.get("models").get(0);
      assertEquals("sim-small", gateway.get("model").asText(), "each member says how its model gateways stand: " + member);
      assertTrue(gateway.get("concurrency").asInt() > 0 && gateway.get("concurrency").asInt() <= gateway.get("max_concurrency").asInt(),
          gateway.toString());
      JsonNode local = http.get("/cluster/records").json();
      assertTrue(local.get("records").size() > 0);
      assertTrue(local.get("records").get(0).asText().startsWith(id + "/"), local.toString());
      assertEquals(member.get("node").asText(), http.get("/jobs/" + id).json().get("coordinator").asText());
    } finally {
      http.post("/jobs/" + id + "/cancel", "application/json", "");
    }
  }

  /** Rows the job keeps in the database: journal events of its coordinator and records, inputs, rows, its job row. */
  private static long kept(String id) {
    return node.store().db().sync(c -> {
      long n = 0;
      for (String sql : List.of(
          "SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = 'Job|" + id + "' OR \"persistence_id\" LIKE 'Record|" + id + "/%'",
          "SELECT COUNT(*) FROM skein_inputs WHERE job_id = '" + id + "'",
          "SELECT COUNT(*) FROM skein_results WHERE job_id = '" + id + "'",
          "SELECT COUNT(*) FROM skein_jobs WHERE id = '" + id + "'")) {
        try (var rs = c.createStatement().executeQuery(sql)) {
          rs.next();
          n += rs.getLong(1);
        }
      }
      return n;
    });
  }

  @Test
  void anEndedJobIsDeletedWithItsJournalInputsAndRowsAndARunningOneIsNot() throws Exception {
    // Topics of their own: the same requests as another test's would be answered from the cache and change its counts.
    String done = submit(http.post("/jobs", "application/json", jsonJob(SPEC, 5).replace("\"topic ", "\"deleted topic ")));
    http.awaitState(done, "succeeded", Duration.ofSeconds(60));
    long before = kept(done);
    assertTrue(before > 5 + 5 + 1 + 5, "the job keeps events, inputs, rows and its row: " + before);
    Http.Response deleted = http.delete("/jobs/" + done);
    assertEquals(204, deleted.status(), deleted.body());
    assertEquals(0, kept(done), "nothing of the job is left");
    problem(http.get("/jobs/" + done), 404);
    problem(http.get("/jobs/" + done + "/results"), 404);
    problem(http.delete("/jobs/" + done), 404);

    String other = submit(http.post("/jobs", "application/json", jsonJob(SPEC, 2).replace("\"topic ", "\"deleted topic ")));
    http.awaitState(other, "succeeded", Duration.ofSeconds(60));
    Path log = Files.createTempFile("skein-jobs-delete", ".log");
    String server = "http://127.0.0.1:" + node.httpPort();
    try (SkeinProcess cli = SkeinProcess.start(log, java.util.Map.of(), "jobs", "delete", "--server", server, other)) {
      assertEquals(0, cli.awaitExit(Duration.ofMinutes(1)), cli.output());
      assertTrue(cli.output().contains("deleted " + other), cli.output());
    }
    assertEquals(0, kept(other), "skein jobs delete --server deletes through the node's API");

    String running = submit(http.post("/jobs", "application/yaml", """
        name: long
        models: {m: sim-small}
        input: {num_records: 100000}
        max_in_flight: 4
        steps:
          - {name: a, model: m, prompt: "{{ index }}"}
        """));
    try {
      JsonNode refused = problem(http.delete("/jobs/" + running), 409);
      assertTrue(refused.get("detail").asText().contains("cancel it first"), refused.toString());
      assertEquals(200, http.post("/jobs/" + running + "/cancel", "application/json", "").status());
      JsonNode stopping = problem(http.delete("/jobs/" + running), 409);
      assertTrue(stopping.get("detail").asText().contains("still stopping"), stopping.toString());
    } finally {
      http.post("/jobs/" + running + "/cancel", "application/json", "");
    }
  }

  @Test
  void jobsEndedLongerAgoThanTheRetentionAreDeletedOnSchedule(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path config = dir.resolve("retention.conf");
    Files.writeString(config, "skein.simulator.latency = 2ms\nskein.retention { ended-jobs = 2s, every = 1s }\n");
    try (SkeinNode short_ = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, true))) {
      Http other = new Http(short_.httpPort());
      String id = submit(other.post("/jobs", "application/json", jsonJob(SPEC, 2)));
      other.awaitState(id, "succeeded", Duration.ofSeconds(60));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (other.get("/jobs/" + id).status() != 404) {
        assertTrue(System.nanoTime() < deadline, "the ended job was never swept");
        Thread.sleep(200);
      }
    }
  }

  @Test
  void unknownJobsAre404() throws Exception {
    problem(http.get("/jobs/nope"), 404);
    problem(http.get("/jobs/nope/results"), 404);
    problem(http.post("/jobs/nope/cancel", "application/json", ""), 404);
    problem(http.post("/jobs/nope/retry-failed", "application/json", ""), 404);
  }

  @Test
  void aRunningJobCanBeCancelledAndAnEndedOneCannot() throws Exception {
    String slow = """
        name: long
        models: {m: sim-small}
        input: {num_records: 100000}
        max_in_flight: 4
        steps:
          - {name: a, model: m, prompt: "{{ index }}"}
        """;
    String id = submit(http.post("/jobs", "application/yaml", slow));
    Http.Response cancelled = http.post("/jobs/" + id + "/cancel", "application/json", "");
    assertEquals(200, cancelled.status(), cancelled.body());
    assertEquals("cancelled", cancelled.json().get("state").asText());
    assertEquals(200, http.post("/jobs/" + id + "/cancel", "application/json", "").status(), "cancel is idempotent");
    assertTrue(http.get("/jobs/" + id).json().get("succeeded").asLong() < 100000);

    String done = submit(http.post("/jobs", "application/json", jsonJob(SPEC, 1)));
    http.awaitState(done, "succeeded", Duration.ofSeconds(60));
    problem(http.post("/jobs/" + done + "/cancel", "application/json", ""), 409);
    assertTrue(problem(http.post("/jobs/" + id + "/retry-failed", "application/json", ""), 409).get("detail").asText().contains("was cancelled"));
    assertTrue(problem(http.post("/jobs/" + done + "/retry-failed", "application/json", ""), 409).get("detail").asText().contains("no failed records"));
  }
}
