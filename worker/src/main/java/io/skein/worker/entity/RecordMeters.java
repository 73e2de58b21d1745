package io.skein.worker.entity;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A node's records: how many run here now ({@code skein.records.in.flight}, the gauge a
 * HorizontalPodAutoscaler scales on) and the rows they wrote, by outcome. A record counts from the
 * end of its recovery to its stop, once however often it restarts in between.
 */
public final class RecordMeters {

  public static final RecordMeters NONE = new RecordMeters(new CompositeMeterRegistry());

  private final Set<String> running = ConcurrentHashMap.newKeySet();
  private final Counter succeeded;
  private final Counter failed;

  public RecordMeters(MeterRegistry registry) {
    Gauge.builder("skein.records.in.flight", running, Set::size)
        .description("Records running on this node: recovered and not yet stopped").register(registry);
    this.succeeded = rows(registry, "succeeded");
    this.failed = rows(registry, "failed");
  }

  private static Counter rows(MeterRegistry registry, String outcome) {
    return Counter.builder("skein.records.finished").description("Rows this node's records wrote, by outcome")
        .tag("outcome", outcome).register(registry);
  }

  void running(String recordKey) {
    running.add(recordKey);
  }

  void stopped(String recordKey) {
    running.remove(recordKey);
  }

  void finished(boolean ok) {
    (ok ? succeeded : failed).increment();
  }

  /** Records running on this node now. */
  public int inFlight() {
    return running.size();
  }
}
