package io.skein.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk under an embedded H2 database, watched: H2 that cannot write closes the database, and
 * every record would then fail its writes and restart for ever while reads still answer — a job
 * that hangs. Below {@code skein.db.min-free-disk} free, the node stops instead, saying why; nothing
 * journaled is lost, and the same command resumes the job once there is room.
 */
final class DiskWatch {

  private static final Logger log = LoggerFactory.getLogger(DiskWatch.class);

  /** Why the node stopped for the disk, once it has; null before. */
  private final AtomicReference<String> stopped = new AtomicReference<>();
  private final Path dir;
  private final long minFree;

  DiskWatch(Path dir, long minFree) {
    this.dir = dir;
    this.minFree = minFree;
  }

  /** Null if there is room; else what to tell the user. */
  String check() {
    if (minFree <= 0) {
      return null;
    }
    try {
      long free = Files.getFileStore(dir).getUsableSpace();
      return free >= minFree ? null : "only " + mib(free) + " MiB free on the disk of " + dir + " (skein.db.min-free-disk is "
          + mib(minFree) + " MiB): the embedded database would soon fail its writes; free some space, then run the same"
          + " command again to resume (nothing journaled is lost)";
    } catch (IOException e) {
      return null;
    }
  }

  /** Checks every {@code every}; the first time the disk is short, logs why and stops the node. */
  void start(ActorSystem<?> system, Duration every) {
    system.scheduler().scheduleWithFixedDelay(every, every, () -> {
      String reason = check();
      if (reason != null && stopped.compareAndSet(null, reason)) {
        log.error("stopping: {}", reason);
        CoordinatedShutdown.get(system).run(CoordinatedShutdown.unknownReason());
      }
    }, system.executionContext());
  }

  /** Why the node stopped for the disk; null if it has not. */
  String stopped() {
    return stopped.get();
  }

  private static long mib(long bytes) {
    return bytes / (1024 * 1024);
  }
}
