package io.skein.coordinator.job;

import blue.strategic.parquet.ParquetWriter;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * Rows as a Parquet file (parquet-floor: Parquet without Hadoop). One column per top-level field,
 * in order of first appearance, typed from the rows: integers as INT64, other numbers as DOUBLE,
 * booleans as BOOLEAN, text as UTF-8 strings, and lists and objects (messages, structured values) as
 * their JSON text, which pandas and pyarrow read as strings ({@code json.loads} gives them back).
 * Every column is optional: a field a row lacks, or null, is a null. Two passes: one for the schema.
 * A file of no rows has one column, {@code id}.
 */
public final class ParquetRows {

  private enum Kind { LONG, DOUBLE, BOOLEAN, TEXT }

  private ParquetRows() {}

  public static long write(Supplier<Iterator<JsonNode>> rows, Path file) throws IOException {
    Map<String, Kind> columns = new LinkedHashMap<>();
    for (Iterator<JsonNode> it = rows.get(); it.hasNext(); ) {
      it.next().fields().forEachRemaining(e -> {
        Kind kind = kindOf(e.getValue());
        if (kind != null) {
          columns.merge(e.getKey(), kind, ParquetRows::widen);
        } else {
          columns.putIfAbsent(e.getKey(), Kind.TEXT);
        }
      });
    }
    if (columns.isEmpty()) {
      columns.put("id", Kind.TEXT); // no rows: Parquet has no schema without a column
    }
    Types.MessageTypeBuilder builder = Types.buildMessage();
    columns.forEach((name, kind) -> {
      switch (kind) {
        case LONG -> builder.optional(PrimitiveTypeName.INT64).named(name);
        case DOUBLE -> builder.optional(PrimitiveTypeName.DOUBLE).named(name);
        case BOOLEAN -> builder.optional(PrimitiveTypeName.BOOLEAN).named(name);
        default -> builder.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(name);
      }
    });
    MessageType schema = builder.named("row");
    Files.deleteIfExists(file);
    long n = 0;
    try (ParquetWriter<JsonNode> writer = ParquetWriter.writeFile(schema, file.toFile(), (row, out) ->
        row.fields().forEachRemaining(e -> {
          JsonNode v = e.getValue();
          if (v != null && !v.isNull()) {
            out.write(e.getKey(), switch (columns.get(e.getKey())) {
              case LONG -> v.asLong();
              case DOUBLE -> v.asDouble();
              case BOOLEAN -> v.asBoolean();
              case TEXT -> v.isTextual() ? v.asText() : v.toString();
            });
          }
        }))) {
      for (Iterator<JsonNode> it = rows.get(); it.hasNext(); ) {
        writer.write(it.next());
        n++;
      }
    }
    return n;
  }

  private static Kind kindOf(JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isIntegralNumber() && v.canConvertToLong()) {
      return Kind.LONG;
    }
    if (v.isNumber()) {
      return Kind.DOUBLE;
    }
    return v.isBoolean() ? Kind.BOOLEAN : Kind.TEXT;
  }

  private static Kind widen(Kind a, Kind b) {
    if (a == b) {
      return a;
    }
    boolean numbers = (a == Kind.LONG || a == Kind.DOUBLE) && (b == Kind.LONG || b == Kind.DOUBLE);
    return numbers ? Kind.DOUBLE : Kind.TEXT;
  }
}
