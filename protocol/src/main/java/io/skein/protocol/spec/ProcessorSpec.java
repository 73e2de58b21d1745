package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What runs on a record's values after its steps: a named extra dataset whose rows are
 * {@code template} (JSON whose strings are templates; a string that is one {@code {{ name }}} keeps
 * the value's type), or, with {@code drop}, fields left out of the main output row.
 */
public record ProcessorSpec(String name, JsonNode template, List<String> drop) {}
