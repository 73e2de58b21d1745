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
        Id id = row.record() == null ? null : idOf(row.record());
        if (id == null || id.kind() == JsonToken.VALUE_NULL) {
          return row;
        }
        if (id.kind() != JsonToken.VALUE_STRING && id.kind() != JsonToken.VALUE_NUMBER_INT && id.kind() != JsonToken.VALUE_NUMBER_FLOAT) {
          return new InputRow(row.index(), null, "record " + row.index() + ": `id` must be a string or a number, got "
              + describe(id.kind()) + " (leave it out and the row's id is the record's position)");
        }
        Long first = seen.putIfAbsent(id.text(), row.index());
        if (first != null) {
          throw new SpecException("records", "records " + first + " and " + row.index() + " (counting from 0) both have id "
              + abbreviate(id.text()) + ": a record's id names its row, so ids must be unique (or left out)");
        }
        return row;
      }
    };
  }

  /** A record's top-level {@code id}: its token, and its JSON text (a string quoted, so "7" and 7 differ). */
  private record Id(JsonToken kind, String text) {}

  /** The record's top-level {@code id}, or null if it has none. */
  private static Id idOf(String record) {
    try (JsonParser p = JSON.createParser(record)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("id")) {
          return new Id(value, value == JsonToken.VALUE_STRING ? "\"" + p.getText() + "\"" : p.getText());
        }
        p.skipChildren();
      }
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
