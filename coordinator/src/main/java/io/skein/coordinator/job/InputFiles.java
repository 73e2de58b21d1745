package io.skein.coordinator.job;

import blue.strategic.parquet.Hydrator;
import blue.strategic.parquet.HydratorSupplier;
import blue.strategic.parquet.ParquetReader;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import io.skein.coordinator.store.JobStore.InputRow;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Records from files, by extension: JSONL ({@link InputLines}), CSV with a header row (Jackson's
 * CSV module; numbers and booleans are read as such, as pandas does, but a number with a leading
 * zero stays text), and Parquet (parquet-floor: Parquet without Hadoop; each row's columns become
 * fields, nested groups as JSON).
 */
public final class InputFiles {

  public enum Format {
    JSONL, CSV, PARQUET;

    /** The format of a file by its name; JSONL unless it ends in .csv or .parquet. */
    public static Format of(String name) {
      String n = name.toLowerCase(Locale.ROOT);
      return n.endsWith(".csv") ? CSV : n.endsWith(".parquet") || n.endsWith(".pq") ? PARQUET : JSONL;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CsvMapper CSV = CsvMapper.builder().enable(CsvParser.Feature.TRIM_SPACES).build();
  private static final Pattern INTEGER = Pattern.compile("-?(0|[1-9]\\d{0,17})");
  private static final Pattern DECIMAL = Pattern.compile("-?(0|[1-9]\\d*)?\\.\\d+([eE][-+]?\\d+)?");

  private InputFiles() {}

  public static Iterator<InputRow> read(Path file, Set<String> fields) throws IOException {
    return switch (Format.of(file.getFileName().toString())) {
      case CSV -> csv(Files.newBufferedReader(file, StandardCharsets.UTF_8), fields);
      case PARQUET -> parquet(file, fields);
      case JSONL -> InputLines.fromJsonl(Files.newBufferedReader(file, StandardCharsets.UTF_8), fields);
    };
  }

  /** CSV with a header row; a row that cannot be read becomes an error row naming its line. */
  public static Iterator<InputRow> csv(Reader reader, Set<String> fields) throws IOException {
    MappingIterator<Map<String, String>> rows = CSV.readerForMapOf(String.class).with(CsvSchema.emptySchema().withHeader())
        .readValues(reader instanceof BufferedReader b ? b : new BufferedReader(reader));
    return new Iterator<>() {
      private long index;
      private String broken;
      private boolean ended;

      @Override
      public boolean hasNext() {
        if (ended) {
          return false;
        }
        try {
          return broken != null || rows.hasNextValue();
        } catch (IOException | RuntimeException e) {
          // The parser cannot go past this point: say so in one error row instead of dropping the rest.
          broken = "line " + line() + ": " + firstLine(e) + "; the rest of the file could not be read";
          return true;
        }
      }

      @Override
      public InputRow next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        if (broken != null) {
          ended = true;
          return new InputRow(index++, null, broken);
        }
        long line = line();
        try {
          Map<String, String> values = rows.nextValue();
          ObjectNode node = JSON.createObjectNode();
          values.forEach((k, v) -> node.set(k, typed(v)));
          fields.addAll(values.keySet());
          return new InputRow(index++, node.toString(), null);
        } catch (IOException | RuntimeException e) {
          return new InputRow(index++, null, "line " + line + ": " + firstLine(e));
        }
      }

      private long line() {
        return rows.getCurrentLocation() == null ? index + 2 : rows.getCurrentLocation().getLineNr();
      }
    };
  }

  private static String firstLine(Exception e) {
    return e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("unreadable CSV row");
  }

  private static JsonNode typed(String v) {
    if (v == null || v.isEmpty()) {
      return JSON.nullNode();
    }
    if (INTEGER.matcher(v).matches()) {
      return JSON.getNodeFactory().numberNode(Long.parseLong(v));
    }
    if (DECIMAL.matcher(v).matches()) {
      return JSON.getNodeFactory().numberNode(Double.parseDouble(v));
    }
    if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
      return JSON.getNodeFactory().booleanNode(Boolean.parseBoolean(v));
    }
    return JSON.getNodeFactory().textNode(v);
  }

  /** A Parquet file's rows; Parquet needs random access, so it is read from a file. */
  public static Iterator<InputRow> parquet(Path file, Set<String> fields) throws IOException {
    Iterator<ObjectNode> rows = ParquetReader.streamContent(file.toFile(), HydratorSupplier.constantly(new Hydrator<ObjectNode, ObjectNode>() {
      @Override
      public ObjectNode start() {
        return JSON.createObjectNode();
      }

      @Override
      public ObjectNode add(ObjectNode row, String heading, Object value) {
        row.set(heading, value == null ? JSON.nullNode() : JSON.valueToTree(value));
        return row;
      }

      @Override
      public ObjectNode finish(ObjectNode row) {
        return row;
      }
    })).iterator();
    return new Iterator<>() {
      private long index;

      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public InputRow next() {
        ObjectNode row = rows.next();
        row.fieldNames().forEachRemaining(fields::add);
        return new InputRow(index++, row.toString(), null);
      }
    };
  }
}
