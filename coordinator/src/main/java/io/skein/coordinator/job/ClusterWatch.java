package io.skein.coordinator.job;

import java.time.Duration;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * One per node. Keeps each model gateway's share of the cluster-wide limits right as members come
 * and go (one share per member that is joining, up or leaving), makes this node leave a cluster
 * whose older members use another database (their journal is not this node's), and wakes the coordinators of running jobs when a member is removed (a coordinator that
 * lived there starts again on a surviving node and re-drives its records) and every
 * {@code interval} as a safety net. Waking a running coordinator is idempotent and cheap. Every
 * {@code refresh} it reads the running jobs into {@link InFlightShares}.
 */
public final class ClusterWatch {

  private enum Tick { INSTANCE }

  private enum Refresh { INSTANCE }

  private ClusterWatch() {}

  /** The cluster role that carries a node's database identity. */
  public static String databaseRole(String databaseId) {
    return DB_ROLE + databaseId.replace("-", "").substring(0, 16);
  }

  private static final String DB_ROLE = "db-";

  public static Behavior<Object> create(JobService jobs, IntConsumer clusterSize, Duration interval, InFlightShares shares,
      Duration refresh) {
    return Behaviors.setup(ctx -> {
      Cluster cluster = Cluster.get(ctx.getSystem());
      Member self = cluster.selfMember();
      String myDatabase = self.getRoles().stream().filter(r -> r.startsWith(DB_ROLE)).findFirst().orElse(null);
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      int[] known = {0};
      return Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
        timers.startTimerWithFixedDelay(Refresh.INSTANCE, refresh);
        return Behaviors.receive(Object.class)
            .onMessage(ClusterEvent.MemberEvent.class, event -> {
              Member other = event.member();
              String theirs = other.getRoles().stream().filter(r -> r.startsWith(DB_ROLE)).findFirst().orElse(null);
              if (myDatabase != null && theirs != null && !theirs.equals(myDatabase) && other.isOlderThan(cluster.selfMember())) {
                ctx.getLog().error("refusing to join a cluster on another database: {} uses {}, this node {}; check --db-url",
                    other.address(), theirs, myDatabase);
                cluster.manager().tell(org.apache.pekko.cluster.typed.Leave.create(cluster.selfMember().address()));
                return Behaviors.same();
              }
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
                shares.clusterSize(size);
              }
              if (event instanceof ClusterEvent.MemberRemoved removed) {
                ctx.getLog().info("{} left the cluster; waking the coordinators of running jobs", removed.member().address());
                jobs.resumeRunning();
              }
              return Behaviors.same();
            })
            .onMessageEquals(Refresh.INSTANCE, () -> {
              jobs.store().running().whenComplete((running, error) -> {
                if (running != null) {
                  java.util.Map<String, Integer> windows = new java.util.HashMap<>();
                  java.util.Map<String, String> owners = new java.util.HashMap<>();
                  running.forEach((id, r) -> {
                    windows.put(id, r.window());
                    if (r.tenant() != null) {
                      owners.put(id, r.tenant());
                    }
                  });
                  shares.running(windows, owners);
                }
              });
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
