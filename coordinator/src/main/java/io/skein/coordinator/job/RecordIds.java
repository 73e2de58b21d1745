package io.skein.coordinator.job;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.protocol.spec.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The ids records carry, checked as they are submitted: a record's {@code id} is a string or a
 * number (or absent or null, and then its row's id is its position); a record whose id is anything else
 * becomes an error row saying so, and two records with the same id refuse the whole submission,
 * naming both positions — as the OpenAI Batch API does for a repeated {@code custom_id}. A row's id
 * is how users join results back to their inputs; two rows with one id would make that join lie.
 *
 * <p>The ids seen are kept while the submission is read: memory grows with the number of records
 * that carry ids (bounded by {@code skein.job.max-records} and, over HTTP, by the body limit).
 */
final class RecordIds {

  private static final JsonFactory JSON = new ObjectMapper().getFactory();

  private RecordIds() {}

  /** The rows, each id checked; the iterator throws {@link SpecException} at the second record of an id. */
  static Iterator<InputRow> checked(Iterator<InputRow> rows) {
    Map<String, Long> seen = new HashMap<>();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public InputRow next() {
        InputRow row = rows.next();
        if (row.record() == null) {
          return row;
        }
        JsonToken kind = idToken(row.record());
        if (kind == null || kind == JsonToken.VALUE_NULL) {
          return row;
        }
        if (kind != JsonToken.VALUE_STRING && kind != JsonToken.VALUE_NUMBER_INT && kind != JsonToken.VALUE_NUMBER_FLOAT) {
          return new InputRow(row.index(), null, "record " + row.index() + ": `id` must be a string or a number, got "
              + describe(kind) + " (leave it out and the row's id is the record's position)");
        }
        String id = idText;
        Long first = seen.putIfAbsent(id, row.index());
        if (first != null) {
          throw new SpecException("records", "records " + first + " and " + row.index() + " (counting from 0) both have id "
              + abbreviate(id) + ": a record's id names its row, so ids must be unique (or left out)");
        }
        return row;
      }

      private String idText;

      /** The token of the record's top-level {@code id} (its JSON text in {@link #idText}), or null if it has none. */
      private JsonToken idToken(String record) {
        try (JsonParser p = JSON.createParser(record)) {
          if (p.nextToken() != JsonToken.START_OBJECT) {
            return null;
          }
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            if (name.equals("id")) {
              idText = value == JsonToken.VALUE_STRING ? "\"" + p.getText() + "\"" : p.getText();
              return value;
            }
            p.skipChildren();
          }
          return null;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }

  private static String describe(JsonToken kind) {
    return switch (kind) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "a list";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      default -> kind.asString();
    };
  }

  private static String abbreviate(String id) {
    return id.length() > 80 ? id.substring(0, 80) + "..." : id;
  }
}
