package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.store.JobStore.InputRow;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InputLinesTest {

  private static List<InputRow> read(String jsonl, Set<String> fields) {
    return read(jsonl.getBytes(java.nio.charset.StandardCharsets.UTF_8), fields);
  }

  private static List<InputRow> read(byte[] jsonl, Set<String> fields) {
    List<InputRow> rows = new ArrayList<>();
    InputLines.fromJsonl(new java.io.ByteArrayInputStream(jsonl), fields).forEachRemaining(rows::add);
    return rows;
  }

  @Test
  void aLineThatIsNotUtf8IsAnErrorRowAndABomAndCrlfAreFine() {
    byte[] bytes = "\uFEFF{\"topic\": \"bom\"}\r\n{\"topic\": \"caf_\"}\r\n{\"topic\": \"caf\u00e9\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int underscore = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf('_');
    bytes[underscore] = (byte) 0xe9; // Latin-1 é: not UTF-8
    List<InputRow> rows = read(bytes, new LinkedHashSet<>());
    assertEquals(3, rows.size());
    assertEquals("{\"topic\":\"bom\"}", rows.get(0).record(), "the byte order mark is not part of the record");
    assertEquals("line 2: not UTF-8 text (byte 15 of the line is not UTF-8)", rows.get(1).error());
    assertEquals("{\"topic\":\"caf\u00e9\"}", rows.get(2).record(), "the other lines still read");
  }

  @Test
  void aMalformedLineBecomesARowWithItsLineNumberWhileTheOthersRead() {
    Set<String> fields = new LinkedHashSet<>();
    List<InputRow> rows = read("{\"topic\": \"a\"}\n\n{\"topic\": oops}\n[1, 2]\n{\"topic\": \"d\", \"id\": 7}\n", fields);
    assertEquals(4, rows.size(), "blank lines are skipped, every other line is a record");
    assertNull(rows.get(0).error());
    assertTrue(rows.get(1).error().startsWith("line 3: malformed JSON"), rows.get(1).error());
    assertTrue(rows.get(2).error().startsWith("line 4: a record must be a JSON object"), rows.get(2).error());
    assertNull(rows.get(3).error());
    assertEquals(3, rows.get(3).index(), "indexes count records, not lines");
    assertEquals(Set.of("topic", "id"), fields);
  }

  @Test
  void inlineRecordsMustBeObjects() throws Exception {
    var records = new ObjectMapper().readTree("[{\"a\": 1}, \"text\"]");
    List<com.fasterxml.jackson.databind.JsonNode> list = new ArrayList<>();
    records.forEach(list::add);
    Set<String> fields = new LinkedHashSet<>();
    List<InputRow> rows = new ArrayList<>();
    InputLines.fromRecords(list, fields).forEachRemaining(rows::add);
    assertNull(rows.get(0).error());
    assertTrue(rows.get(1).error().contains("records[1]"));
    assertEquals(Set.of("a"), fields);
  }
}
