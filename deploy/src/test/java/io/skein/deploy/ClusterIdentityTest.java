package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node whose database is not the cluster's is refused at the join handshake, before any shard can land on it. */
class ClusterIdentityTest {

  @TempDir
  Path dir;

  @Test
  void aNodeOnAnotherDatabaseLeavesInsteadOfJoining() throws Exception {
    int portA = SkeinProcess.freePort();
    int portB = SkeinProcess.freePort();
    int httpA = SkeinProcess.freePort();
    int httpB = SkeinProcess.freePort();
    String seedA = "127.0.0.1:" + portA;
    try (SkeinProcess a = SkeinProcess.start(dir.resolve("a.log"), Map.of(), "node", "--port", String.valueOf(portA),
            "--http-port", String.valueOf(httpA), "--seed", seedA, "--data-dir", dir.resolve("a").toString());
        SkeinProcess b = SkeinProcess.start(dir.resolve("b.log"), Map.of(), "node", "--port", String.valueOf(portB),
            "--http-port", String.valueOf(httpB), "--seed", seedA, "--data-dir", dir.resolve("b").toString())) {
      SkeinProcess.await("the node on another database to leave", Duration.ofMinutes(2), () -> !b.isAlive(), a);
      assertTrue(b.output().contains("refusing to join a cluster on another database"), b.output());
      assertTrue(b.output().contains("skein.cluster.database differs"), "refused at the join handshake: " + b.output());
      assertTrue(a.output().contains("tried to join: refusing to join a cluster on another database"), a.output());
      Http http = new Http(httpA);
      SkeinProcess.await("the cluster to keep its own member only", Duration.ofMinutes(1), () -> {
        try {
          return http.get("/cluster").json().get("members").size() == 1;
        } catch (Exception e) {
          return false;
        }
      }, a);
      assertEquals("up", http.get("/cluster").json().at("/members/0/status").asText());
    }
  }
}
