package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a node is started with: durable H2 URLs, and passwords that never reach a string. */
class NodeOptionsTest {

  @Test
  void anH2UrlAlwaysCommitsAtOnce() {
    assertEquals("jdbc:h2:file:/d/skein;WRITE_DELAY=0", SkeinNode.durableH2("jdbc:h2:file:/d/skein"));
    assertEquals("jdbc:h2:mem:x;write_delay=0", SkeinNode.durableH2("jdbc:h2:mem:x;write_delay=0"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SkeinNode.durableH2("jdbc:h2:file:/d;WRITE_DELAY=500"));
    assertTrue(e.getMessage().contains("WRITE_DELAY=0"), e.getMessage());
    assertTrue(SkeinNode.config(new NodeOptions(Path.of("d"), null, "jdbc:h2:mem:opts", null, null, "127.0.0.1", 0, List.of(), 0, false))
        .getString("skein.db.url").endsWith(";WRITE_DELAY=0"));
  }

  @Test
  void theJournalQueueAndStashesHoldWhatEveryRecordTheNodeMayRunSends() {
    NodeOptions options = new NodeOptions(Path.of("d"), null, "jdbc:h2:mem:buffer", null, null, "127.0.0.1", 0, List.of(), 0, false);
    assertEquals(20_000, SkeinNode.config(options).getInt("jdbc-journal.bufferSize"), "the default holds the default 4,000");
    assertEquals(8000, SkeinNode.config(options).getInt("pekko.persistence.typed.stash-capacity"));
    var many = SkeinNode.config(options.withSettings(java.util.Map.of("skein.job.max-records-in-flight-per-node", 50_000)));
    assertEquals(51_000, many.getInt("jdbc-journal.bufferSize"));
    assertEquals(100_000, many.getInt("pekko.persistence.typed.stash-capacity"));
  }

  @Test
  void thePasswordNeverShows() {
    NodeOptions options = new NodeOptions(Path.of("d"), null, "jdbc:postgresql://db:5432/skein?user=app&password=hunter2", "app",
        "s3cr3t-pw", "127.0.0.1", 2551, List.of(), 8080, false);
    assertFalse(options.toString().contains("s3cr3t-pw"), options.toString());
    assertFalse(options.toString().contains("hunter2"), options.toString());
    assertEquals("jdbc:postgresql://app:***@db/x", NodeOptions.redactUrl("jdbc:postgresql://app:pw@db/x"));
  }
}
