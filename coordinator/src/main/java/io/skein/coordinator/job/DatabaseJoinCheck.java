package io.skein.coordinator.job;

import com.typesafe.config.Config;
import java.util.List;
import org.apache.pekko.cluster.ConfigValidation;
import org.apache.pekko.cluster.Invalid;
import org.apache.pekko.cluster.JoinConfigCompatChecker;
import org.apache.pekko.cluster.Valid$;

/**
 * Refuses a node whose database is not the cluster's at the join handshake, before any shard can
 * land on it: Pekko compares {@value #KEY} (the database's identity, which the node puts in its
 * config at start) of the joining node with the cluster's, and a node refused this way shuts
 * down. Registered under {@code pekko.cluster.configuration-compatibility-check.checkers}.
 * ({@link ClusterWatch} still checks members' database roles, for nodes of a version without this.)
 */
public final class DatabaseJoinCheck extends JoinConfigCompatChecker {

  public static final String KEY = "skein.cluster.database";

  @Override
  public scala.collection.immutable.Seq<String> requiredKeys() {
    return scala.jdk.javaapi.CollectionConverters.asScala(List.of(KEY)).toList();
  }

  @Override
  public ConfigValidation check(Config toCheck, Config actualConfig) {
    if (!toCheck.hasPath(KEY) || !actualConfig.hasPath(KEY)) {
      return Valid$.MODULE$;
    }
    String theirs = toCheck.getString(KEY);
    String ours = actualConfig.getString(KEY);
    return theirs.equals(ours) ? Valid$.MODULE$ : new Invalid(scala.jdk.javaapi.CollectionConverters.asScala(List.of(
        "refusing to join a cluster on another database: the joining node uses database " + theirs + ", the cluster " + ours
            + "; check --db-url")).toList());
  }
}
