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
 * <p>Two ways to find a repeated id: {@link #checked} keeps the ids seen in memory, for input that is
 * held whole anyway (sampled, selected, previewed); {@link #scalar} only checks each id's kind and
 * leaves repeats to the database, which stores each row's {@link #hash} under a unique index
 * ({@link InputWriter}), so a streamed upload of any size is checked without holding its ids.
 */
final class RecordIds {

  private static final JsonFactory JSON = new ObjectMapper().getFactory();

  private RecordIds() {}

  /** The rows, each id checked; the iterator throws {@link SpecException} at the second record of an id. */
  static Iterator<InputRow> checked(Iterator<InputRow> rows) {
    Map<String, Long> seen = new HashMap<>();
    return map(rows, (row, id) -> {
      Long first = seen.putIfAbsent(id.text(), row.index());
      if (first != null) {
        throw duplicate(first, row.index(), id.text());
      }
    });
  }

  /** The rows, each id's kind checked (a record whose id is not a scalar becomes an error row); repeats are not looked for. */
  static Iterator<InputRow> scalar(Iterator<InputRow> rows) {
    return map(rows, (row, id) -> {});
  }

  /** Two records with one id: the submission is refused, naming both (positions counted from 0) and the id. */
  static SpecException duplicate(long first, long later, String idText) {
    return new SpecException("records", "records " + first + " and " + later + " (counting from 0) both have id "
        + abbreviate(idText) + ": a record's id names its row, so ids must be unique (or left out)");
  }

  /**
   * What a stored row's id is checked by: 128 bits of the SHA-256 of the id's JSON text (a string
   * quoted, so "7" and 7 differ), as 32 hex digits, whatever the id's length; null for a record
   * without a string or number id.
   */
  static String hash(String record) {
    String text = text(record);
    if (text == null) {
      return null;
    }
    try {
      byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(sha, 0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The JSON text of a record's string or number id; null if it has none (or another kind). */
  static String text(String record) {
    Id id = record == null ? null : idOf(record);
    return id == null || !scalar(id.kind()) ? null : id.text();
  }

  private static boolean scalar(JsonToken kind) {
    return kind == JsonToken.VALUE_STRING || kind == JsonToken.VALUE_NUMBER_INT || kind == JsonToken.VALUE_NUMBER_FLOAT;
  }

  /** Rows whose id is not a scalar become error rows; {@code each} sees every row with a scalar id. */
  private static Iterator<InputRow> map(Iterator<InputRow> rows, java.util.function.BiConsumer<InputRow, Id> each) {
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
        if (!scalar(id.kind())) {
          return new InputRow(row.index(), null, "record " + row.index() + ": `id` must be a string or a number, got "
              + describe(id.kind()) + " (leave it out and the row's id is the record's position)");
        }
        each.accept(row, id);
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
