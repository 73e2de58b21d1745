package io.skein.worker.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import io.skein.protocol.spec.SpecParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The schema `skein schema` prints is a JSON Schema that every example meets and that says what the parser checks. */
class SpecSchemaTest {

  private static final JsonSchema SCHEMA = JsonSchemas.compile(SpecSchema.get());

  @Test
  void itIsAJsonSchemaNamingEveryKindWithDescriptions() {
    assertEquals(List.of(), JsonSchemas.problemsOfSchema(SpecSchema.get()));
    JsonNode cases = SpecSchema.get().at("/properties/steps/items/allOf");
    assertEquals(StepKinds.all().size(), cases.size());
    for (JsonNode c : cases) {
      c.at("/then/properties").fields().forEachRemaining(e ->
          assertTrue(e.getValue().hasNonNull("description") || e.getKey().equals("kind"), "no description for " + e.getKey()));
    }
  }

  @Test
  void theTopLevelKeysAreTheParsers() {
    Set<String> keys = new TreeSet<>();
    SpecSchema.get().get("properties").fieldNames().forEachRemaining(keys::add);
    Set<String> parsed = new TreeSet<>(io.skein.protocol.spec.Stages.TOP_KEYS);
    parsed.addAll(SpecParser.TOP_KEYS);
    assertEquals(parsed, keys, "every key of a one-stage or a staged spec");
  }

  @Test
  void everyExampleMeetsIt() throws Exception {
    try (Stream<Path> files = Files.list(Path.of("../examples"))) {
      List<Path> specs = files.filter(p -> p.toString().endsWith(".yaml")).toList();
      assertTrue(specs.size() >= 5, specs.toString());
      for (Path spec : specs) {
        JsonNode tree = SpecParser.readTree(Files.readString(spec));
        assertEquals(List.of(), JsonSchemas.validate(SCHEMA, tree), spec.toString());
      }
    }
  }

  @Test
  void aStepWithAnotherKindsKeysDoesNot() {
    JsonNode bad = SpecParser.readTree("name: x\nsteps: [{name: a, kind: sampler, sampler: uuid, prompt: hi}]");
    assertFalse(JsonSchemas.validate(SCHEMA, bad).isEmpty());
    JsonNode good = SpecParser.readTree("name: x\nsteps: [{name: a, kind: sampler, sampler: uuid}, {name: b, model: m, prompt: p}]");
    assertEquals(List.of(), JsonSchemas.validate(SCHEMA, good));
  }
}
