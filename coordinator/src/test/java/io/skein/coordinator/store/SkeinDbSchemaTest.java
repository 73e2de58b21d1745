package io.skein.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A new H2 store's journal keeps event payloads as VARBINARY (not BLOB, which H2 writes to a second
 * store past 256 bytes) with one unique index on ordering, and still holds and returns payloads of
 * any size the journal writes.
 */
class SkeinDbSchemaTest {

  @Test
  void anH2JournalKeepsPayloadsInItsRowsWithOneIndexOnOrdering() throws Exception {
    try (SkeinDb db = SkeinDb.open(TestDatabases.freshH2(), null, null, 2)) {
      db.sync(c -> {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
            "SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'event_journal'"
                + " AND COLUMN_NAME IN ('event_payload', 'meta_payload') ORDER BY COLUMN_NAME")) {
          List<String> types = new ArrayList<>();
          while (rs.next()) {
            types.add(rs.getString(1) + " " + rs.getString(2));
          }
          assertEquals(List.of("event_payload BINARY VARYING", "meta_payload BINARY VARYING"), types);
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.INDEX_COLUMNS WHERE TABLE_NAME = 'event_journal' AND COLUMN_NAME = 'ordering'")) {
          rs.next();
          assertEquals(1, rs.getInt(1), "the UNIQUE constraint's index only");
        }
        byte[] payload = new byte[200_000];
        new java.util.Random(7).nextBytes(payload);
        try (PreparedStatement p = c.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\","
            + " \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\")"
            + " VALUES ('p', 1, 'w', 0, '', ?, 1, 'm')")) {
          p.setBytes(1, payload);
          p.executeUpdate();
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT \"event_payload\" FROM \"event_journal\"")) {
          rs.next();
          assertArrayEquals(payload, rs.getBytes(1));
        }
        return null;
      });
    }
  }
}
