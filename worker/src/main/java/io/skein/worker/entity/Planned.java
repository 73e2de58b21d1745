package io.skein.worker.entity;

import io.skein.protocol.CallId;
import io.skein.protocol.RecordProtocol.Command;
import io.skein.worker.template.TemplateException;
import java.util.Map;
import java.util.Set;

/**
 * A plan and what it was made from: the next decision and, when the record is done, its rendered
 * rows (or why they do not render). Pure: made on any thread from the values given.
 */
record Planned(StepPlanner.Decision decision, Rows.Rendered rendered, String renderError, RecordContext context,
    RecordState basis, Set<CallId> inFlight, Map<CallId, Long> notBefore, long resumedAt, long now, Throwable error)
    implements Command {

  /** Where records whose templates have blocks plan: daemon threads, as many as cores (at least two). */
  static final java.util.concurrent.ExecutorService THREADS = java.util.concurrent.Executors.newFixedThreadPool(
      Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
        Thread t = new Thread(r, "skein-templates");
        t.setDaemon(true);
        return t;
      });

  static Planned of(RecordContext ctx, RecordState state, Set<CallId> inFlight, Map<CallId, Long> notBefore, long now, long resumedAt) {
    StepPlanner.Decision decision = StepPlanner.next(ctx.plan(), ctx.input(), state, inFlight, notBefore, now, resumedAt);
    Rows.Rendered rendered = null;
    String renderError = null;
    if (decision instanceof StepPlanner.Finish) {
      try {
        rendered = Rows.render(ctx, state);
      } catch (TemplateException e) {
        renderError = e.getMessage();
      }
    }
    return new Planned(decision, rendered, renderError, ctx, state, inFlight, notBefore, resumedAt, now, null);
  }

  static Planned failed(Throwable error) {
    return new Planned(null, null, null, null, null, Set.of(), Map.of(), 0, 0, error);
  }
}
