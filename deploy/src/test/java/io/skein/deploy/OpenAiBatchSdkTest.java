package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.ObjectMappers;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.batches.BatchError;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import io.skein.deploy.sim.SimulatorSettings;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Skein's OpenAI Batch API through the official {@code openai-java} SDK, unchanged but for its
 * {@code baseUrl}: a real node (H2) whose model is a simulator in this JVM. Every answer is parsed
 * and checked ({@code validate()}) by the SDK's own models.
 */
class OpenAiBatchSdkTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration DEADLINE = Duration.ofMinutes(2);

  private static TestSimulator sim;
  private static SkeinNode node;
  private static OpenAIClient client;

  @BeforeAll
  static void start() throws Exception {
    sim = new TestSimulator(new SimulatorSettings(5, 0, 0, 0, 0, 1, 1));
    Path dir = Files.createTempDirectory("skein-batch-sdk");
    Path config = Files.writeString(dir.resolve("providers.conf"), """
        skein.models.providers."gpt-4o-mini" { base-url = "%s", model = "sim-small" }
        skein.models.providers."text-embedding-3-small" { base-url = "%1$s", model = "sim-embed" }
        skein.batch.max-file-size = 64k
        skein.batch.max-line-size = 16k
        """.formatted(sim.simulator.baseUrl()));
    node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, null, null, null, "127.0.0.1", 0, List.of(), 0, false));
    client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + node.httpPort() + "/v1").apiKey("sk-unused").build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (node != null) {
      node.close();
    }
    if (sim != null) {
      sim.close();
    }
  }

  /** A batch line asking {@code gpt-4o-mini}; {@code extra}: more of the body, as JSON members. */
  private static String line(String customId, String question, String extra) {
    return "{\"custom_id\": \"" + customId + "\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {\"model\":"
        + " \"gpt-4o-mini\", \"messages\": [{\"role\": \"system\", \"content\": \"Answer briefly.\"}, {\"role\": \"user\", \"content\": \""
        + question + "\"}]" + extra + "}}";
  }

  private static FileObject upload(Path dir, String name, List<String> lines) throws Exception {
    Path file = Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    return client.files().create(FileCreateParams.builder().file(file).purpose(FilePurpose.BATCH).build()).validate();
  }

  private static Batch create(String fileId) {
    return client.batches().create(BatchCreateParams.builder().inputFileId(fileId)
        .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS).completionWindow(BatchCreateParams.CompletionWindow._24H)
        .metadata(BatchCreateParams.Metadata.builder().putAdditionalProperty("team", JsonValue.from("eval")).build())
        .build()).validate();
  }

  private static Batch await(String id, String what, Predicate<Batch> done) throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      Batch b = client.batches().retrieve(id).validate();
      if (done.test(b)) {
        return b;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("batch " + id + " did not " + what + " within " + DEADLINE + ": " + b);
      }
      Thread.sleep(100);
    }
  }

  private static List<JsonNode> content(String fileId) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String l : text(fileId).split("\n")) {
      if (!l.isBlank()) {
        out.add(JSON.readTree(l));
      }
    }
    return out;
  }

  @Test
  void aBatchRunsThroughTheSdkAndEveryRequestIsAnsweredOnceInTheOutputOrErrorFile(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      // Request 13 asks for 0 tokens: the provider refuses it (400), and it goes to the error file.
      lines.add(line("req-" + i, "What is " + i + " squared?", i == 13 ? ", \"max_tokens\": 0" : ", \"temperature\": 0.2"));
    }
    FileObject file = upload(dir, "questions.jsonl", lines);
    assertEquals("questions.jsonl", file.filename());
    assertEquals(Files.size(dir.resolve("questions.jsonl")), file.bytes());
    assertEquals(file, client.files().retrieve(file.id()).validate());
    assertTrue(client.files().list().data().stream().anyMatch(f -> f.id().equals(file.id())), "the upload is listed");
    assertEquals(Files.readString(dir.resolve("questions.jsonl")), text(file.id()), "the content is the file as uploaded");

    Batch created = create(file.id());
    assertEquals(file.id(), created.inputFileId());
    assertEquals("eval", created.metadata().orElseThrow()._additionalProperties().get("team").asStringOrThrow());
    Batch done = await(created.id(), "complete", b -> b.status().equals(Batch.Status.COMPLETED));
    var counts = done.requestCounts().orElseThrow();
    assertEquals(40, counts.total());
    assertEquals(39, counts.completed());
    assertEquals(1, counts.failed());
    assertTrue(done.completedAt().isPresent());

    List<JsonNode> output = content(done.outputFileId().orElseThrow());
    assertEquals(39, output.size());
    Set<String> answered = new HashSet<>();
    for (JsonNode o : output) {
      assertTrue(answered.add(o.get("custom_id").asText()), "one line per custom_id: " + o);
      assertEquals(200, o.at("/response/status_code").asInt());
      assertTrue(o.get("error").isNull());
      ChatCompletion completion = ObjectMappers.jsonMapper().convertValue(o.at("/response/body"), ChatCompletion.class).validate();
      assertFalse(completion.choices().get(0).message().content().orElseThrow().isBlank());
      assertTrue(completion.usage().orElseThrow().totalTokens() > 0);
    }
    assertFalse(answered.contains("req-13"));
    assertEquals(client.files().retrieve(done.outputFileId().orElseThrow()).bytes(),
        contentBytes(done.outputFileId().orElseThrow()), "the output file's size is its content's");

    List<JsonNode> errors = content(done.errorFileId().orElseThrow());
    assertEquals(1, errors.size());
    assertEquals("req-13", errors.get(0).get("custom_id").asText());
    assertEquals(400, errors.get(0).at("/response/status_code").asInt(), errors.get(0).toString());
    assertTrue(errors.get(0).at("/response/body/error/message").asText().contains("max_tokens"), errors.get(0).toString());

    assertTrue(client.batches().list().data().stream().anyMatch(b -> b.id().equals(done.id())), "the batch is listed");
    BadRequestException late = assertThrows(BadRequestException.class, () -> client.batches().cancel(done.id()));
    assertTrue(late.getMessage().contains("completed"), late.getMessage());
  }

  private static long contentBytes(String fileId) throws Exception {
    return text(fileId).getBytes(StandardCharsets.UTF_8).length;
  }

  private static String text(String fileId) throws Exception {
    try (var response = client.files().content(fileId); InputStream body = response.body()) {
      return new String(body.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void anEmbeddingsBatchAnswersEachLineWithTheProvidersVectors(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      lines.add("{\"custom_id\": \"e-" + i + "\", \"method\": \"POST\", \"url\": \"/v1/embeddings\", \"body\": {\"model\":"
          + " \"text-embedding-3-small\", \"input\": \"" + (i % 2 == 0 ? "the same text" : "text " + i) + "\"}}");
    }
    FileObject file = upload(dir, "embed.jsonl", lines);
    Batch created = client.batches().create(BatchCreateParams.builder().inputFileId(file.id())
        .endpoint(BatchCreateParams.Endpoint.V1_EMBEDDINGS).completionWindow(BatchCreateParams.CompletionWindow._24H).build()).validate();
    Batch done = await(created.id(), "complete", b -> b.status().equals(Batch.Status.COMPLETED));
    assertEquals(12, done.requestCounts().orElseThrow().completed());
    List<JsonNode> output = content(done.outputFileId().orElseThrow());
    assertEquals(12, output.size());
    java.util.Map<String, List<Float>> vectors = new java.util.HashMap<>();
    for (JsonNode o : output) {
      var embeddings = ObjectMappers.jsonMapper().convertValue(o.at("/response/body"),
          com.openai.models.embeddings.CreateEmbeddingResponse.class).validate();
      assertEquals("text-embedding-3-small", embeddings.model());
      assertEquals(16, embeddings.data().get(0).embedding().size());
      vectors.put(o.get("custom_id").asText(), embeddings.data().get(0).embedding());
    }
    assertEquals(vectors.get("e-0"), vectors.get("e-2"), "the same text, the same vector");
    assertFalse(vectors.get("e-0").equals(vectors.get("e-1")));
  }

  @Test
  void aMalformedFileFailsTheBatchWithEveryProblemAndItsLine(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    List<String> lines = List.of(
        line("a", "one", ""),
        "{not json",
        line("a", "two", ""),
        line("c", "three", "").replace("gpt-4o-mini", "gpt-4o"),
        line("d", "four", "").replace("/v1/chat/completions", "/v1/embeddings"));
    Batch failed = create(upload(dir, "bad.jsonl", lines).id());
    assertEquals(Batch.Status.FAILED, failed.status());
    List<BatchError> problems = failed.errors().orElseThrow().data().orElseThrow();
    assertEquals(List.of("invalid_json_line:2", "duplicate_custom_id:3", "mismatched_model:4", "mismatched_endpoint:5"),
        problems.stream().map(p -> p.code().orElseThrow() + ":" + p.line().orElseThrow()).toList());
    assertEquals(Batch.Status.FAILED, client.batches().retrieve(failed.id()).validate().status(), "and stays failed");
  }

  @Test
  void aBatchIsCancelledWhileItsModelIsDownAndKeepsItsCounts(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      lines.add(line("c-" + i, "Question " + i, ""));
    }
    sim.simulator.outage(true);
    try {
      Batch running = create(upload(dir, "down.jsonl", lines).id());
      assertEquals(Batch.Status.IN_PROGRESS, running.status());
      Batch cancelling = client.batches().cancel(running.id()).validate();
      assertTrue(cancelling.status().equals(Batch.Status.CANCELLING) || cancelling.status().equals(Batch.Status.CANCELLED),
          cancelling.status().toString());
      assertTrue(cancelling.cancellingAt().isPresent());
      Batch cancelled = await(running.id(), "end cancelled", b -> b.status().equals(Batch.Status.CANCELLED));
      assertEquals(20, cancelled.requestCounts().orElseThrow().total());
      assertEquals(0, cancelled.requestCounts().orElseThrow().completed());
    } finally {
      sim.simulator.outage(false);
    }
  }

  @Test
  void thePythonSdkRoundTripsABatch(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    JsonNode summary = python("roundtrip", dir);
    assertEquals(24, summary.get("completed").asInt(), summary.toString());
    assertEquals(1, summary.get("failed").asInt(), summary.toString());
  }

  @Test
  void thePythonSdkCancelsABatch(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    sim.simulator.outage(true);
    try {
      assertEquals("cancelled", python("cancel", dir).get("status").asText());
    } finally {
      sim.simulator.outage(false);
    }
  }

  /**
   * Runs {@code src/test/python/batch_roundtrip.py} with the official {@code openai} package
   * ({@code SKEIN_TEST_PYTHON}, which {@code .ci/run} makes from the local wheel index); skips
   * where that Python cannot import it. Returns the script's summary line.
   */
  private static JsonNode python(String mode, Path dir) throws Exception {
    String python = PrometheusText.python();
    int found;
    try {
      Process check = new ProcessBuilder(python, "-c", "import openai").redirectErrorStream(true).start();
      found = check.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) ? check.exitValue() : -1;
    } catch (java.io.IOException e) {
      found = -1;
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(found == 0, python + " cannot import the `openai` package (set SKEIN_TEST_PYTHON"
        + " to a Python that has it, as .ci/run does from the local wheel index)");
    Path log = dir.resolve("python.log");
    Process p = new ProcessBuilder(python, "src/test/python/batch_roundtrip.py", "http://127.0.0.1:" + node.httpPort() + "/v1", mode,
        dir.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(3, java.util.concurrent.TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("the Python SDK script did not end within 3 minutes: " + Files.readString(log));
    }
    List<String> out = Files.readAllLines(log);
    assertEquals(0, p.exitValue(), String.join("\n", out));
    JsonNode summary = JSON.readTree(out.get(out.size() - 1));
    assertTrue(summary.get("ok").asBoolean(), summary.toString());
    return summary;
  }

  /** A multipart upload as curl -F sends it: {@code purpose} then {@code file}. */
  private static byte[] multipart(String purpose, byte[] file) {
    var out = new java.io.ByteArrayOutputStream();
    String b = "----skein-test";
    out.writeBytes(("--" + b + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose + "\r\n--" + b
        + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n")
        .getBytes(StandardCharsets.UTF_8));
    out.writeBytes(file);
    out.writeBytes(("\r\n--" + b + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  @Test
  void aBadUploadIsRefusedSayingWhyAndLeavesNoFile() throws Exception {
    Http http = new Http(node.httpPort());
    String type = "multipart/form-data; boundary=----skein-test";
    long before = client.files().list().data().size();
    Http.Response json = http.post("/v1/files", "application/json", "{}");
    assertEquals(400, json.status());
    assertTrue(json.contentType().startsWith("application/problem+json"), json.contentType());
    assertEquals("invalid_request", json.json().at("/error/code").asText(), json.body());
    Http.Response purpose = http.post("/v1/files", type, multipart("fine-tune", line("a", "q", "").getBytes(StandardCharsets.UTF_8)));
    assertEquals(400, purpose.status());
    assertEquals("purpose", purpose.json().at("/error/param").asText(), purpose.body());
    byte[] notUtf8 = (line("a", "q", "") + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] broken = java.util.Arrays.copyOf(notUtf8, notUtf8.length + 3);
    broken[notUtf8.length] = (byte) 0xC3;
    broken[notUtf8.length + 1] = (byte) 0x28;
    broken[notUtf8.length + 2] = '\n';
    Http.Response bytes = http.post("/v1/files", type, multipart("batch", broken));
    assertEquals(400, bytes.status());
    assertTrue(bytes.json().at("/error/message").asText().contains("line 2"), bytes.body());
    byte[] longLine = (line("a", "x".repeat(20_000), "") + "\n").getBytes(StandardCharsets.UTF_8);
    Http.Response lineTooLong = http.post("/v1/files", type, multipart("batch", longLine));
    assertEquals(413, lineTooLong.status(), lineTooLong.body());
    assertEquals("line_too_large", lineTooLong.json().at("/error/code").asText(), lineTooLong.body());
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 400; i++) {
      many.append(line("m" + i, "question " + i, "")).append('\n');
    }
    Http.Response tooLarge = http.post("/v1/files", type, multipart("batch", many.toString().getBytes(StandardCharsets.UTF_8)));
    assertEquals(413, tooLarge.status(), tooLarge.body());
    assertTrue(tooLarge.json().at("/error/message").asText().contains("skein.batch.max-file-size"), tooLarge.body());
    assertEquals(before, client.files().list().data().size(), "no refused upload left a file");
    assertEquals(400, http.get("/v1/batches?limit=0").status());
  }

  @Test
  void mistakesAreAnsweredAsOpenAiAnswersThem() {
    NotFoundException missing = assertThrows(NotFoundException.class, () -> client.batches().retrieve("batch_nope"));
    assertTrue(missing.getMessage().contains("batch_nope"), missing.getMessage());
    assertThrows(NotFoundException.class, () -> client.files().retrieve("file-nope"));
    NotFoundException noFile = assertThrows(NotFoundException.class, () -> create("file-nope-either"));
    assertTrue(noFile.getMessage().contains("file-nope-either"), noFile.getMessage());
    BadRequestException window = assertThrows(BadRequestException.class, () -> client.batches().create(BatchCreateParams.builder()
        .inputFileId("file-x").endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
        .completionWindow(BatchCreateParams.CompletionWindow.of("1h")).build()));
    assertEquals("completion_window", window.param().orElseThrow(), "OpenAI's error object, read by the SDK");
  }
}
