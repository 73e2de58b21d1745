package io.skein.protocol.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Where records come from: a {@code file} (JSONL, CSV or Parquet, by extension), inline
 * {@code records}, or neither and {@code numRecords} empty records to generate into. With a file
 * or records, {@code numRecords} draws that many of their rows by {@code sampling} ({@code ordered},
 * {@code shuffle}, {@code replace}); {@code limit} caps the records in any case. {@code fields}
 * optionally declares the fields records carry, for template checks before any record is read.
 * {@code selection} (null: every row) takes only some of the rows, before they are drawn.
 */
public record InputSpec(String file, List<JsonNode> records, Long numRecords, List<String> fields, String sampling, Long limit,
    Selection selection) {

  public static final InputSpec NONE = new InputSpec(null, null, null, List.of(), null, null);

  public InputSpec(String file, List<JsonNode> records, Long numRecords, List<String> fields, String sampling, Long limit) {
    this(file, records, numRecords, fields, sampling, limit, null);
  }

  /**
   * Data Designer's selection strategies: rows {@code start} to {@code end} (both included, from 0),
   * or block {@code index} (from 0) of {@code partitions} equal blocks, the last taking the remainder.
   */
  public record Selection(long start, long end, int index, int partitions) {

    public static Selection range(long start, long end) {
      return new Selection(start, end, 0, 0);
    }

    public static Selection partition(int index, int partitions) {
      return new Selection(0, 0, index, partitions);
    }

    /** The first and last row (both included) of {@code size} rows; {@code first > last} when none is taken. */
    public long[] rows(long size) {
      if (partitions == 0) {
        return new long[] {start, Math.min(end, size - 1)};
      }
      long block = size / partitions;
      return new long[] {index * block, index == partitions - 1 ? size - 1 : (index + 1) * block - 1};
    }
  }

  public static final List<String> SAMPLINGS = List.of("ordered", "shuffle", "replace");
}
