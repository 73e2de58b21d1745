package io.skein.worker.step;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The JSON Schema of the whole spec language (what {@code skein schema} prints and
 * {@code GET /schema} serves): the top-level keys from {@code spec-schema.json} (stages and setup
 * steps included), and a step as one
 * of the kinds this node knows, each with its keys and their descriptions, selected by {@code kind}.
 */
public final class SpecSchema {

  private static final ObjectNode SCHEMA = build();

  private SpecSchema() {}

  public static ObjectNode get() {
    return SCHEMA.deepCopy();
  }

  private static ObjectNode build() {
    ObjectNode root;
    try (InputStream in = SpecSchema.class.getResourceAsStream("spec-schema.json")) {
      root = (ObjectNode) Json.MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ObjectNode items = ((ObjectNode) root.get("properties").get("steps")).putObject("items");
    items.put("type", "object").putArray("required").add("name");
    ObjectNode kind = items.putObject("properties").putObject("kind");
    ArrayNode kinds = kind.putArray("enum");
    kind.put("description", "What the step does (default llm).");
    ArrayNode cases = items.putArray("allOf");
    for (StepKind k : StepKinds.all()) {
      kinds.add(k.name());
      ObjectNode when = cases.addObject();
      ObjectNode condition = when.putObject("if");
      condition.putObject("properties").putObject("kind").put("const", k.name());
      if (!k.name().equals("llm")) {
        condition.putArray("required").add("kind");
      }
      when.set("then", StepKinds.stepSchema(k));
    }
    // Setup steps and each stage's steps are steps like the top-level ones.
    ((ObjectNode) root.get("properties").get("setup")).set("items", items.deepCopy());
    ((ObjectNode) root.at("/properties/stages/items/properties/steps")).set("items", items.deepCopy());
    return root;
  }
}
