package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.coordinator.store.TestDatabases;
import io.skein.deploy.sim.SimulatorSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL goes away for 30 s in the middle of a job (every connection to it ends, new ones are
 * refused, as when it is stopped) and comes back: the job slows, then completes with every row, no
 * row twice, and no record failed because of the outage. Meanwhile the HTTP API answers (a problem,
 * not a hang) while it cannot read the database.
 */
@Tag("scenario")
class DatabaseOutageTest {

  @Test
  void aThirtySecondDatabaseOutageLosesNothingAndFailsNoRecord() throws Exception {
    Assumptions.assumeTrue(TestDatabases.postgresUrl().isPresent(), TestDatabases.PG_SKIP_MESSAGE);
    String base = TestDatabases.postgresUrl().get();
    String schemaUrl = TestDatabases.freshPostgresSchema(base);
    URI pg = URI.create(base.substring("jdbc:".length()));
    Path dir = Files.createTempDirectory("skein-db-outage");
    try (TestSimulator sim = new TestSimulator(new SimulatorSettings(30, 0.2, 0, 0, 0, 6, 0));
         TcpProxy proxy = new TcpProxy("127.0.0.1", pg.getHost(), pg.getPort() < 0 ? 5432 : pg.getPort())) {
      String viaProxy = schemaUrl.replace(pg.getHost() + ":" + (pg.getPort() < 0 ? 5432 : pg.getPort()), "127.0.0.1:" + proxy.port());
      assertTrue(viaProxy.contains(":" + proxy.port() + "/"), viaProxy);
      Path config = dir.resolve("outage.conf");
      Files.writeString(config, "skein.models.providers.\"sim-small\" { base-url = \"" + sim.simulator.baseUrl() + "\" }\n");
      try (SkeinNode node = SkeinNode.start(new NodeOptions(dir.resolve("data"), config, viaProxy, null, null, "127.0.0.1", 0, List.of(), 0,
          false))) {
        Http http = new Http(node.httpPort());
        String spec = """
            name: db-outage
            models: {m: {model: sim-small, max_tokens: 20}}
            input: {num_records: 600}
            max_in_flight: 50
            retry: {max_attempts: 3, initial_backoff: 50ms, max_backoff: 1s}
            steps:
              - {name: a, model: m, prompt: "A {{ index }}"}
              - {name: b, model: m, prompt: "B {{ a }}"}
            """;
        Http.Response submitted = http.post("/jobs", "application/yaml", spec);
        assertEquals(201, submitted.status(), submitted.body());
        String id = submitted.json().get("id").asText();
        http.awaitStatus(id, "make some calls", s -> s.get("calls").asLong() >= 200, Duration.ofMinutes(1));

        proxy.cut();
        long outageEnds = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Http.Response during = http.get("/jobs/" + id);
        assertTrue(during.status() == 200 || during.contentType().startsWith("application/problem+json"),
            "while the database is away the API answers, as a problem if it must: " + during.status() + " " + during.body());
        long sleep = (outageEnds - System.nanoTime()) / 1_000_000;
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
        proxy.restore();

        JsonNode done = http.awaitStatus(id, "end after the outage", s -> !s.get("state").asText().equals("running"), Duration.ofMinutes(4));
        assertEquals("succeeded", done.get("state").asText(), done.toString());
        assertEquals(600, done.get("succeeded").asInt(), "no record failed because of the outage: " + done);
        List<JsonNode> rows = new ArrayList<>(http.get("/jobs/" + id + "/results").lines());
        rows.addAll(http.get("/jobs/" + id + "/errors").lines());
        Set<String> ids = new HashSet<>();
        rows.forEach(r -> assertTrue(ids.add(r.get("id").asText()), "id " + r.get("id") + " twice"));
        assertEquals(600, rows.size(), "every row, once");
      }
    }
  }
}
