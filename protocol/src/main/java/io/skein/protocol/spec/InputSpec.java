package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Where records come from: a JSONL {@code file}, inline {@code records}, or {@code numRecords}
 * empty records to generate into. {@code fields} optionally declares the fields records carry, for
 * template checks before any record is read.
 */
public record InputSpec(String file, List<JsonNode> records, Long numRecords, List<String> fields) {

  public static final InputSpec NONE = new InputSpec(null, null, null, List.of());
}
