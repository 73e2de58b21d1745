package io.skein.worker.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.StepSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A Java kind's keys from its record: the schema a spec is checked against, and the binding a kind compiles from. */
class StepParamsTest {

  record Inner(String label, int weight) {}

  record Params(
      @JsonProperty(required = true) @JsonPropertyDescription("What to say.") String prompt,
      Integer maxRounds,
      @JsonProperty("temp") Double temperature,
      List<Inner> parts) {}

  @Test
  void theSchemaHasSnakeCaseKeysTheRequiredOnesAndTheirDescriptionsWithNothingReferencedOutside() {
    ObjectNode schema = StepParams.schema(Params.class);
    ObjectNode properties = (ObjectNode) schema.get("properties");
    assertEquals(List.of("max_rounds", "parts", "prompt", "temp"), sorted(properties));
    assertEquals("What to say.", properties.get("prompt").get("description").asText());
    assertEquals("[\"prompt\"]", schema.get("required").toString());
    assertEquals("integer", properties.get("max_rounds").get("type").asText());
    assertTrue(properties.get("parts").get("items").get("properties").has("weight"), "nested records are inlined: " + schema);
    assertTrue(!schema.toString().contains("$ref") && !schema.toString().contains("$defs"), schema.toString());
  }

  @Test
  void aStepsKeysBindToTheRecordAndWhatDoesNotFitIsAProblemAtItsKey() {
    Params p = StepParams.bind(step("{\"name\": \"s\", \"kind\": \"x\", \"prompt\": \"hi\", \"max_rounds\": 3, \"temp\": 0.5,"
        + " \"parts\": [{\"label\": \"a\", \"weight\": 2}]}"), Params.class, new Problems());
    assertEquals(new Params("hi", 3, 0.5, List.of(new Inner("a", 2))), p);

    Problems problems = new Problems();
    assertNull(StepParams.bind(step("{\"name\": \"s\", \"prompt\": \"hi\", \"parts\": [{\"label\": \"a\", \"weight\": \"heavy\"}]}"),
        Params.class, problems));
    assertEquals(1, problems.size());
    assertEquals("steps[0] (s).parts[0].weight", problems.errors().get(0).path());
    assertTrue(problems.errors().get(0).message().contains("heavy"), problems.errors().toString());
  }

  private static StepSpec step(String json) {
    ObjectNode config = Json.object(json);
    return new StepSpec(config.get("name").asText(), "x", 0, null, 1, false, "none", false, config);
  }

  private static List<String> sorted(ObjectNode node) {
    List<String> names = new java.util.ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names.stream().sorted().toList();
  }
}
