package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Where records come from: a {@code file} (JSONL, CSV or Parquet, by extension), inline
 * {@code records}, or neither and {@code numRecords} empty records to generate into. With a file
 * or records, {@code numRecords} draws that many of their rows by {@code sampling} ({@code ordered},
 * {@code shuffle}, {@code replace}); {@code limit} caps the records in any case. {@code fields}
 * optionally declares the fields records carry, for template checks before any record is read.
 */
public record InputSpec(String file, List<JsonNode> records, Long numRecords, List<String> fields, String sampling, Long limit) {

  public static final InputSpec NONE = new InputSpec(null, null, null, List.of(), null, null);

  public static final List<String> SAMPLINGS = List.of("ordered", "shuffle", "replace");
}
