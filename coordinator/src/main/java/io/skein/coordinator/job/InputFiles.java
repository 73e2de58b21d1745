package io.skein.coordinator.job;

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
 * zero stays text), and Parquet ({@link ParquetInput}: each column a field, nested columns as JSON).
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
      case JSONL -> InputLines.fromJsonl(Files.newInputStream(file), fields);
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

  /**
   * A Parquet file's rows, nested columns as JSON ({@link ParquetInput}); Parquet needs random access,
   * so it is read from a file. A file that cannot be read fails with its name and why.
   */
  public static Iterator<InputRow> parquet(Path file, Set<String> fields) throws IOException {
    ParquetInput rows;
    try {
      rows = new ParquetInput(file);
    } catch (IOException | RuntimeException e) {
      String why = String.valueOf(e.getMessage()).replaceAll("\\S*LocalInputFile@\\w+ is not a Parquet file\\. ", "");
      throw new IllegalArgumentException(file.getFileName() + " is not a Parquet file Skein can read: " + why, e);
    }
    return new Iterator<>() {
      private long index;

      @Override
      public boolean hasNext() {
        try {
          if (rows.hasNext()) {
            return true;
          }
          rows.close();
          return false;
        } catch (IOException | RuntimeException e) {
          throw new IllegalArgumentException(file.getFileName() + ": cannot read the Parquet rows after row " + index + ": " + e.getMessage(), e);
        }
      }

      @Override
      public InputRow next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        ObjectNode row = rows.next();
        row.fieldNames().forEachRemaining(fields::add);
        return new InputRow(index++, row.toString(), null);
      }
    };
  }
}
