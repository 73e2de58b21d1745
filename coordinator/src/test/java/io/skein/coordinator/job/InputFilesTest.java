package io.skein.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.skein.coordinator.store.JobStore.InputRow;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Records from CSV and Parquet files, and how input rows are drawn into records. */
class InputFilesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private static List<JsonNode> records(Iterator<InputRow> rows) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    while (rows.hasNext()) {
      InputRow r = rows.next();
      out.add(r.error() != null ? JSON.createObjectNode().put("error", r.error()) : JSON.readTree(r.record()));
    }
    return out;
  }

  @Test
  void csvHasAHeaderTypesNumbersAndKeepsLeadingZeros() throws Exception {
    Set<String> fields = new LinkedHashSet<>();
    List<JsonNode> rows = records(InputFiles.csv(new StringReader("""
        id,topic,stars,price,fresh,zip
        a1,tea,4,1.5,true,02139
        a2,"coffee, black",5,,false,10001
        """), fields));
    assertEquals(List.of("id", "topic", "stars", "price", "fresh", "zip"), List.copyOf(fields));
    assertEquals(2, rows.size());
    assertEquals(4, rows.get(0).get("stars").asInt());
    assertTrue(rows.get(0).get("stars").isIntegralNumber());
    assertEquals(1.5, rows.get(0).get("price").asDouble());
    assertTrue(rows.get(0).get("fresh").isBoolean());
    assertEquals("02139", rows.get(0).get("zip").asText(), "a leading zero stays text");
    assertEquals("coffee, black", rows.get(1).get("topic").asText());
    assertTrue(rows.get(1).get("price").isNull(), "an empty cell is null");
    assertEquals(10001, rows.get(1).get("zip").asInt());
  }

  @Test
  void aCsvFileThatBreaksOffEndsInAnErrorRowNotInSilence() throws Exception {
    List<JsonNode> rows = records(InputFiles.csv(new StringReader("id,topic\na1,tea\na2,\"never closed\n"), new HashSet<>()));
    assertEquals("a1", rows.get(0).get("id").asText());
    assertEquals(2, rows.size(), rows.toString());
    assertTrue(rows.get(1).get("error").asText().startsWith("line "), rows.toString());
  }

  @Test
  void aParquetFileWrittenByPyarrowIsRead() throws Exception {
    Path file = dir.resolve("in.parquet");
    Files.write(file, InputFilesTest.class.getResourceAsStream("/inputs/pyarrow-written.parquet").readAllBytes());
    Set<String> fields = new LinkedHashSet<>();
    List<JsonNode> rows = records(InputFiles.read(file, fields));
    assertEquals(List.of("id", "topic", "stars", "price", "fresh"), List.copyOf(fields));
    assertEquals(3, rows.size());
    assertEquals("p1", rows.get(0).get("id").asText());
    assertEquals("tea", rows.get(0).get("topic").asText());
    assertEquals(4, rows.get(0).get("stars").asInt());
    assertEquals(20.25, rows.get(1).get("price").asDouble());
    assertEquals(false, rows.get(1).get("fresh").asBoolean());
    assertTrue(rows.get(2).path("topic").isNull() || rows.get(2).path("topic").isMissingNode(), rows.get(2).toString());
  }

  @Test
  void nestedParquetColumnsBecomeJsonValues() throws Exception {
    Path file = dir.resolve("nested.parquet");
    Files.write(file, InputFilesTest.class.getResourceAsStream("/inputs/pyarrow-nested.parquet").readAllBytes());
    List<JsonNode> rows = records(InputFiles.read(file, new LinkedHashSet<>()));
    assertEquals(2, rows.size());
    JsonNode a = rows.get(0);
    assertEquals(JSON.readTree("{\"name\": \"lamp\", \"price\": 3.5, \"dims\": [10, 20]}"), a.get("product"), "a struct with a list inside");
    assertEquals(JSON.readTree("[\"x\", null, \"y\"]"), a.get("tags"), "a list keeps its null element");
    assertEquals(JSON.readTree("[{\"stars\": 5, \"text\": \"great\"}]"), a.get("reviews"));
    assertEquals(JSON.readTree("{\"color\": \"red\", \"size\": \"L\"}"), a.get("attrs"), "a map is an object");
    assertEquals("2024-02-29", a.get("day").asText());
    assertEquals("2024-01-02T03:04:05.678901Z", a.get("at").asText());
    assertEquals(new java.math.BigDecimal("12.34"), a.get("cost").decimalValue());
    assertEquals("AAE=", a.get("blob").asText(), "binary without a type is base64");
    JsonNode b = rows.get(1);
    assertTrue(b.get("tags").isNull(), "a null list is null: " + b);
    assertEquals(0, b.get("reviews").size());
    assertEquals(0, b.at("/product/dims").size());
    assertTrue(b.get("day").isNull() && b.get("at").isNull());
    assertEquals(new java.math.BigDecimal("-0.05"), b.get("cost").decimalValue());
  }

  @Test
  void aFileThatIsNotParquetIsAnErrorNamingIt() throws Exception {
    Path file = dir.resolve("broken.parquet");
    Files.writeString(file, "id,topic\n1,tea\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InputFiles.read(file, new HashSet<>()));
    assertTrue(e.getMessage().startsWith("broken.parquet is not a Parquet file Skein can read: "), e.getMessage());
  }

  @Test
  void rowsWrittenAsParquetReadBackWithTheirTypes() throws Exception {
    List<JsonNode> rows = List.of(
        JSON.readTree("{\"id\": \"r1\", \"n\": 3, \"x\": 1.5, \"ok\": true, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"),
        JSON.readTree("{\"id\": \"r2\", \"n\": 4.5, \"extra\": \"only here\"}"));
    Path file = dir.resolve("out.parquet");
    assertEquals(2, ParquetRows.write(rows::iterator, file));
    List<JsonNode> back = records(InputFiles.parquet(file, new HashSet<>()));
    assertEquals(2, back.size());
    assertEquals(3.0, back.get(0).get("n").asDouble(), "int and float in one column: a double");
    assertEquals(JSON.readTree("[{\"role\": \"user\", \"content\": \"hi\"}]"), JSON.readTree(back.get(0).get("messages").asText()),
        "nested values are JSON text");
    assertEquals("only here", back.get(1).get("extra").asText());
    assertTrue(back.get(0).path("extra").isNull() || back.get(0).path("extra").isMissingNode());
    assertEquals(0, ParquetRows.write(List.<JsonNode>of()::iterator, dir.resolve("empty.parquet")), "no rows is a file too");
  }

  private static List<String> drawn(String sampling, Long count, Long limit, long seed) {
    return drawn(4, sampling, count, limit, seed, null);
  }

  private static List<String> drawn(int size, String sampling, Long count, Long limit, long seed,
      io.skein.protocol.spec.InputSpec.Selection selection) {
    List<InputRow> rows = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      rows.add(new InputRow(i, "{\"i\":" + i + "}", null));
    }
    List<String> out = new ArrayList<>();
    Iterator<InputRow> it = InputSampling.apply(rows.iterator(), sampling, count, limit, seed, selection);
    long index = 0;
    while (it.hasNext()) {
      InputRow r = it.next();
      assertEquals(index++, r.index(), "records are numbered anew");
      out.add(r.record().replaceAll("\\D", ""));
    }
    return out;
  }

  @Test
  void rowsAreDrawnInOrderShuffledOrWithReplacement() {
    assertEquals(List.of("0", "1", "2", "3"), drawn(null, null, null, 1));
    assertEquals(List.of("0", "1"), drawn("ordered", null, 2L, 1));
    assertEquals(List.of("0", "1", "2", "3", "0", "1"), drawn("ordered", 6L, null, 1), "more records than rows: cycle");
    List<String> shuffled = drawn("shuffle", 8L, null, 7);
    assertEquals(Set.of("0", "1", "2", "3"), new HashSet<>(shuffled.subList(0, 4)), "each cycle is a permutation");
    assertEquals(Set.of("0", "1", "2", "3"), new HashSet<>(shuffled.subList(4, 8)));
    assertEquals(shuffled, drawn("shuffle", 8L, null, 7), "the same seed, the same order");
    assertNotEquals(drawn("shuffle", 8L, null, 7), drawn("shuffle", 8L, null, 8));
    List<String> replaced = drawn("replace", 40L, null, 3);
    assertEquals(40, replaced.size());
    assertTrue(new HashSet<>(replaced).size() <= 4);
    assertEquals(5, drawn("replace", 40L, 5L, 3).size(), "limit caps the count");
  }

  @Test
  void aSelectionTakesItsRowsBeforeAnyIsDrawnAsDataDesignerDoes() {
    var range = io.skein.protocol.spec.InputSpec.Selection.range(2, 9);
    assertEquals(List.of("2", "3", "4", "5", "6", "7", "8", "9", "2", "3"), drawn(12, "ordered", 10L, null, 1, range),
        "rows 2 to 9, both included, then again from 2 (the support-tickets fixture)");
    assertEquals(List.of("2", "3", "4", "5", "6", "7", "8", "9"), drawn(12, null, null, null, 1, range));
    assertEquals(List.of("2", "3"), drawn(4, null, null, null, 1, io.skein.protocol.spec.InputSpec.Selection.range(2, 9)),
        "a range past the end stops at the last row");
    var secondHalf = io.skein.protocol.spec.InputSpec.Selection.partition(1, 2);
    assertEquals(List.of("4", "5", "6", "7"), drawn(8, null, null, null, 1, secondHalf), "block 1 of 2: the second half");
    assertEquals(List.of("6", "7", "8", "9"), drawn(10, null, null, null, 1, io.skein.protocol.spec.InputSpec.Selection.partition(2, 3)),
        "the last block takes the remainder (10 // 3 = 3 a block)");
    List<String> shuffled = drawn(8, "shuffle", 8L, null, 5, secondHalf);
    assertEquals(Set.of("4", "5", "6", "7"), new HashSet<>(shuffled.subList(0, 4)), "shuffled within the selection");
    assertEquals(Set.of("4", "5", "6", "7"), new HashSet<>(shuffled));
  }

  @Test
  void aRowDrawnAgainGetsItsOwnIdSoRowsStayOnePerId() {
    List<InputRow> rows = List.of(new InputRow(0, "{\"id\":\"a\",\"x\":1}", null), new InputRow(1, "{\"x\":2}", null));
    List<String> records = new ArrayList<>();
    InputSampling.apply(rows.iterator(), "ordered", 5L, null, 1).forEachRemaining(r -> records.add(r.record()));
    assertEquals(List.of("{\"id\":\"a\",\"x\":1}", "{\"x\":2}", "{\"id\":\"a-1\",\"x\":1}", "{\"x\":2}",
        "{\"id\":\"a-2\",\"x\":1}"), records, "a record without an id is named by its new position anyway");
  }
}
