package io.skein.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.store.JobStore.InputRow;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Input records as a stream of rows, one per record, adding the fields they carry to a set: from a JSONL reader (blank lines skipped; a
 * line that is not a JSON object becomes a row with an error naming its line, so it ends as an
 * error row while the other lines run) or from records already parsed.
 */
public final class InputLines {

  private static final ObjectMapper JSON = new ObjectMapper();

  private InputLines() {}

  public static Iterator<InputRow> fromJsonl(BufferedReader reader, java.util.Set<String> fields) {
    return new Iterator<>() {
      private long index;
      private long line;
      private InputRow next;

      @Override
      public boolean hasNext() {
        if (next != null) {
          return true;
        }
        try {
          String text;
          while ((text = reader.readLine()) != null) {
            line++;
            if (!text.isBlank()) {
              next = row(index++, line, text, fields);
              return true;
            }
          }
          return false;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public InputRow next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        InputRow r = next;
        next = null;
        return r;
      }
    };
  }

  public static Iterator<InputRow> fromRecords(List<JsonNode> records, java.util.Set<String> fields) {
    return new Iterator<>() {
      private int i;

      @Override
      public boolean hasNext() {
        return i < records.size();
      }

      @Override
      public InputRow next() {
        JsonNode r = records.get(i);
        int index = i++;
        if (r.isObject()) {
          r.fieldNames().forEachRemaining(fields::add);
        }
        return r.isObject() ? new InputRow(index, r.toString(), null)
            : new InputRow(index, null, "records[" + index + "]: a record must be a JSON object, got " + kind(r));
      }
    };
  }

  static InputRow row(long index, long line, String text, java.util.Set<String> fields) {
    try {
      JsonNode node = JSON.readTree(text);
      if (node == null || !node.isObject()) {
        return new InputRow(index, null, "line " + line + ": a record must be a JSON object, got " + kind(node));
      }
      node.fieldNames().forEachRemaining(fields::add);
      return new InputRow(index, node.toString(), null);
    } catch (IOException e) {
      String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
      String snippet = text.length() > 80 ? text.substring(0, 80) + "..." : text;
      return new InputRow(index, null, "line " + line + ": malformed JSON (" + why + "): " + snippet);
    }
  }

  private static String kind(JsonNode node) {
    if (node == null) {
      return "nothing";
    }
    return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
  }
}
