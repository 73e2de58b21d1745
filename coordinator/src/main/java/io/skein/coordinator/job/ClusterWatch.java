package io.skein.coordinator.job;

import java.time.Duration;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * One per node. Keeps each model gateway's share of the cluster-wide limits right as members come
 * and go (one share per member that is joining, up or leaving), and wakes the coordinators of running jobs when a member is removed (a coordinator that
 * lived there starts again on a surviving node and re-drives its records) and every
 * {@code interval} as a safety net. Waking a running coordinator is idempotent and cheap.
 */
public final class ClusterWatch {

  private enum Tick { INSTANCE }

  private ClusterWatch() {}

  public static Behavior<Object> create(JobService jobs, IntConsumer clusterSize, Duration interval) {
    return Behaviors.setup(ctx -> {
      Cluster cluster = Cluster.get(ctx.getSystem());
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      int[] known = {0};
      return Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
        return Behaviors.receive(Object.class)
            .onMessage(ClusterEvent.MemberEvent.class, event -> {
              // Joining and leaving members count too: shares shrink before a new node takes work and
              // grow only once a lost one is removed, so the sum never exceeds a limit.
              long counted = 0;
              for (var m : cluster.state().getMembers()) {
                if (m.status() != MemberStatus.down() && m.status() != MemberStatus.removed()) {
                  counted++;
                }
              }
              int size = (int) Math.max(1, counted);
              if (size != known[0]) {
                known[0] = size;
                ctx.getLog().info("{} members: each node takes 1/{} of every model's limits", size, size);
                clusterSize.accept(size);
              }
              if (event instanceof ClusterEvent.MemberRemoved removed) {
                ctx.getLog().info("{} left the cluster; waking the coordinators of running jobs", removed.member().address());
                jobs.resumeRunning();
              }
              return Behaviors.same();
            })
            .onMessageEquals(Tick.INSTANCE, () -> {
              jobs.resumeRunning();
              return Behaviors.same();
            })
            .build();
      });
    });
  }
}
