package io.skein.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.store.JobStore.InputRow;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Input records as a stream of rows, one per record, adding the fields they carry to a set: from
 * JSONL bytes (blank lines skipped; a line that is not UTF-8 or not a JSON object becomes a row
 * with an error naming its line, so it ends as an error row while the other lines run) or from
 * records already parsed.
 */
public final class InputLines {

  private static final ObjectMapper JSON = new ObjectMapper();

  private InputLines() {}

  /**
   * JSONL from bytes: each line is decoded on its own and strictly, so a line that is not UTF-8
   * becomes a row with an error naming its line and byte, and the others still run; a UTF-8 byte
   * order mark at the start is skipped, as is a {@code \r} before each newline.
   */
  public static Iterator<InputRow> fromJsonl(InputStream in, java.util.Set<String> fields) {
    InputStream bytes = in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 64 * 1024);
    return new Iterator<>() {
      private long index;
      private long line;
      private InputRow next;
      private boolean first = true;
      private byte[] buffer = new byte[8192];

      @Override
      public boolean hasNext() {
        if (next != null) {
          return true;
        }
        try {
          int length;
          while ((length = readLine()) >= 0) {
            line++;
            int start = first && length >= 3 && (buffer[0] & 0xff) == 0xef && (buffer[1] & 0xff) == 0xbb && (buffer[2] & 0xff) == 0xbf ? 3 : 0;
            first = false;
            String text = decode(buffer, start, length - start);
            if (text == null) {
              next = new InputRow(index++, null, "line " + line + ": not UTF-8 text (byte " + (badByte + 1 - start) + " of the line is not UTF-8)");
              return true;
            }
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

      /** Reads up to the next newline into the buffer; the line's length (without \r\n), or -1 at the end. */
      private int readLine() throws IOException {
        int n = 0;
        int b;
        while ((b = bytes.read()) >= 0 && b != '\n') {
          if (n == buffer.length) {
            buffer = java.util.Arrays.copyOf(buffer, n * 2);
          }
          buffer[n++] = (byte) b;
        }
        if (b < 0 && n == 0) {
          return -1;
        }
        return n > 0 && buffer[n - 1] == '\r' ? n - 1 : n;
      }

      private int badByte;

      private String decode(byte[] data, int offset, int length) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(data, offset, length);
        CharBuffer out = CharBuffer.allocate(length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
          badByte = in.position();
          return null;
        }
        decoder.flush(out);
        return out.flip().toString();
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
