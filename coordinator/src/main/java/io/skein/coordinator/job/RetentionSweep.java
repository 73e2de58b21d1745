package io.skein.coordinator.job;

import com.typesafe.config.Config;
import io.skein.coordinator.store.JobRetention;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * {@code skein.retention}: every {@code every}, deletes the jobs that ended more than
 * {@code ended-jobs} ago (with their journal, inputs and rows) and trims the response cache to
 * {@code cache-age} and {@code cache-max-entries}. Each node sweeps; a job two nodes pick is
 * deleted once (the other finds it gone). {@code off} keeps jobs or cached answers for ever.
 */
public final class RetentionSweep {

  /** Jobs deleted per sweep at most: a backlog is worked off over several sweeps, never in one long transaction. */
  private static final int JOBS_PER_SWEEP = 100;

  private RetentionSweep() {}

  public static void start(ActorSystem<?> system, JobRetention retention, Config config) {
    Optional<Duration> jobs = age(config, "ended-jobs");
    Optional<Duration> cacheAge = age(config, "cache-age");
    Duration abandoned = config.getDuration("abandoned-uploads");
    long maxEntries = config.getLong("cache-max-entries");
    Duration every = config.getDuration("every");
    Runnable sweep = () -> {
      long now = System.currentTimeMillis();
      jobs.ifPresent(age -> retention.deleteEndedBefore(now - age.toMillis(), JOBS_PER_SWEEP).whenComplete((ids, error) -> {
        if (error != null) {
          system.log().warn("retention: could not delete ended jobs: {}", error.getMessage());
        } else if (!ids.isEmpty()) {
          system.log().info("retention: deleted {} job(s) ended over {} ago: {}", ids.size(), age, ids);
        }
      }));
      retention.deleteAbandonedUploads(now - abandoned.toMillis(), JOBS_PER_SWEEP).whenComplete((ids, error) -> {
        if (error != null) {
          system.log().warn("retention: could not delete abandoned uploads: {}", error.getMessage());
        } else if (!ids.isEmpty()) {
          system.log().info("retention: deleted the inputs of {} submission(s) abandoned part-way over {} ago: {}", ids.size(),
              abandoned, ids);
        }
      });
      retention.trimCache(cacheAge.map(age -> now - age.toMillis()).orElse(Long.MIN_VALUE), maxEntries).whenComplete((n, error) -> {
        if (error != null) {
          system.log().warn("retention: could not trim the response cache: {}", error.getMessage());
        } else if (n > 0) {
          system.log().info("retention: dropped {} cached answer(s)", n);
        }
      });
    };
    system.scheduler().scheduleWithFixedDelay(every, every, sweep, system.executionContext());
  }

  private static Optional<Duration> age(Config config, String key) {
    String text = config.getString(key).strip();
    return text.equalsIgnoreCase("off") || text.equalsIgnoreCase("false") ? Optional.empty() : Optional.of(config.getDuration(key));
  }
}
