package io.skein.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Base64;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * A Parquet file's rows as JSON objects, nested columns included: structs as objects, LIST columns
 * (the three-level form pyarrow and Spark write, and the legacy two-level one) as arrays, MAP columns
 * as objects, strings, enums and UUIDs as text, JSON columns parsed, decimals as numbers, dates as
 * ISO dates, timestamps (INT64 of any unit, and INT96) as ISO instants, other binary as base64.
 *
 * <p>Written here because parquet-floor, which writes Skein's Parquet, reads flat files only, and
 * the Parquet libraries that read nested data into objects do it through Avro or Hadoop; this reads
 * with parquet-java's own record assembly ({@link GroupRecordConverter}) and only maps its groups to
 * JSON. One row group is in memory at a time.
 */
final class ParquetInput implements Iterator<ObjectNode>, AutoCloseable {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long JULIAN_EPOCH_DAY = 2_440_588L;

  private final ParquetFileReader reader;
  private final MessageType schema;
  private RecordReader<Group> records;
  private long left;

  ParquetInput(Path file) throws IOException {
    this.reader = ParquetFileReader.open(new LocalInputFile(file), ParquetReadOptions.builder().build());
    this.schema = reader.getFooter().getFileMetaData().getSchema();
  }

  @Override
  public boolean hasNext() {
    try {
      while (left == 0) {
        PageReadStore pages = reader.readNextRowGroup();
        if (pages == null) {
          return false;
        }
        records = new ColumnIOFactory().getColumnIO(schema).getRecordReader(pages, new GroupRecordConverter(schema));
        left = pages.getRowCount();
      }
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public ObjectNode next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    left--;
    return object(records.read(), schema);
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }

  private static ObjectNode object(Group group, GroupType type) {
    ObjectNode out = NODES.objectNode();
    for (int i = 0; i < type.getFieldCount(); i++) {
      Type field = type.getType(i);
      int count = group.getFieldRepetitionCount(i);
      if (field.isRepetition(Type.Repetition.REPEATED)) {
        ArrayNode items = out.putArray(field.getName());
        for (int r = 0; r < count; r++) {
          items.add(value(group, i, r, field));
        }
      } else {
        out.set(field.getName(), count == 0 ? NODES.nullNode() : value(group, i, 0, field));
      }
    }
    return out;
  }

  private static JsonNode value(Group group, int field, int index, Type type) {
    if (type.isPrimitive()) {
      return primitive(group, field, index, type.asPrimitiveType());
    }
    Group inner = group.getGroup(field, index);
    GroupType groupType = type.asGroupType();
    LogicalTypeAnnotation logical = groupType.getLogicalTypeAnnotation();
    if (logical instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation && groupType.getFieldCount() == 1) {
      return list(inner, groupType.getType(0));
    }
    if ((logical instanceof LogicalTypeAnnotation.MapLogicalTypeAnnotation
        || logical instanceof LogicalTypeAnnotation.MapKeyValueTypeAnnotation) && groupType.getFieldCount() == 1) {
      return map(inner, groupType.getType(0));
    }
    return object(inner, groupType);
  }

  /** {@code repeated group list { element }} (three levels) or a repeated element itself (two). */
  private static ArrayNode list(Group list, Type repeated) {
    ArrayNode out = NODES.arrayNode();
    boolean threeLevel = !repeated.isPrimitive() && repeated.asGroupType().getFieldCount() == 1
        && !repeated.getName().equals("array") && !repeated.getName().endsWith("_tuple");
    for (int r = 0; r < list.getFieldRepetitionCount(0); r++) {
      if (threeLevel) {
        Group item = list.getGroup(0, r);
        out.add(item.getFieldRepetitionCount(0) == 0 ? NODES.nullNode() : value(item, 0, 0, repeated.asGroupType().getType(0)));
      } else {
        out.add(value(list, 0, r, repeated));
      }
    }
    return out;
  }

  private static ObjectNode map(Group map, Type keyValue) {
    ObjectNode out = NODES.objectNode();
    GroupType entry = keyValue.asGroupType();
    for (int r = 0; r < map.getFieldRepetitionCount(0); r++) {
      Group kv = map.getGroup(0, r);
      JsonNode key = value(kv, 0, 0, entry.getType(0));
      JsonNode value = entry.getFieldCount() < 2 || kv.getFieldRepetitionCount(1) == 0 ? NODES.nullNode() : value(kv, 1, 0, entry.getType(1));
      out.set(key.isTextual() ? key.asText() : key.toString(), value);
    }
    return out;
  }

  private static JsonNode primitive(Group group, int field, int index, PrimitiveType type) {
    LogicalTypeAnnotation logical = type.getLogicalTypeAnnotation();
    return switch (type.getPrimitiveTypeName()) {
      case BOOLEAN -> NODES.booleanNode(group.getBoolean(field, index));
      case FLOAT -> NODES.numberNode(group.getFloat(field, index));
      case DOUBLE -> NODES.numberNode(group.getDouble(field, index));
      case INT32 -> {
        int v = group.getInteger(field, index);
        yield logical instanceof LogicalTypeAnnotation.DateLogicalTypeAnnotation ? NODES.textNode(LocalDate.ofEpochDay(v).toString())
            : logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation d ? NODES.numberNode(BigDecimal.valueOf(v, d.getScale()))
            : NODES.numberNode(v);
      }
      case INT64 -> {
        long v = group.getLong(field, index);
        yield logical instanceof LogicalTypeAnnotation.TimestampLogicalTypeAnnotation t ? NODES.textNode(instant(v, t.getUnit()).toString())
            : logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation d ? NODES.numberNode(BigDecimal.valueOf(v, d.getScale()))
            : NODES.numberNode(v);
      }
      case INT96 -> NODES.textNode(int96(group.getInt96(field, index)).toString());
      case BINARY, FIXED_LEN_BYTE_ARRAY -> binary(group.getBinary(field, index), logical);
    };
  }

  private static JsonNode binary(Binary value, LogicalTypeAnnotation logical) {
    if (logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation d) {
      return NODES.numberNode(new BigDecimal(new BigInteger(value.getBytes()), d.getScale()));
    }
    if (logical instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation) {
      try {
        return JSON.readTree(value.toStringUsingUTF8());
      } catch (IOException e) {
        return NODES.textNode(value.toStringUsingUTF8());
      }
    }
    if (logical instanceof LogicalTypeAnnotation.UUIDLogicalTypeAnnotation) {
      ByteBuffer b = value.toByteBuffer();
      return NODES.textNode(new java.util.UUID(b.getLong(), b.getLong()).toString());
    }
    if (logical instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation || logical instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation) {
      return NODES.textNode(value.toStringUsingUTF8());
    }
    return NODES.textNode(Base64.getEncoder().encodeToString(value.getBytes()));
  }

  private static Instant instant(long v, LogicalTypeAnnotation.TimeUnit unit) {
    return switch (unit) {
      case MILLIS -> Instant.ofEpochMilli(v);
      case MICROS -> Instant.ofEpochSecond(Math.floorDiv(v, 1_000_000L), Math.floorMod(v, 1_000_000L) * 1_000L);
      case NANOS -> Instant.ofEpochSecond(Math.floorDiv(v, 1_000_000_000L), Math.floorMod(v, 1_000_000_000L));
    };
  }

  /** INT96: nanoseconds of the day (8 bytes) then the Julian day (4 bytes), little-endian, as Impala and old Spark write it. */
  private static Instant int96(Binary value) {
    ByteBuffer b = value.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    long nanos = b.getLong();
    long day = b.getInt() - JULIAN_EPOCH_DAY;
    return Instant.ofEpochSecond(day * 86_400L).plusNanos(nanos);
  }
}
