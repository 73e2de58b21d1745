package io.skein.worker.entity;

import io.skein.worker.plan.PipelinePlan;

/**
 * What a record needs besides its events: its job's plan, its input, and its job's tenant (null:
 * none; the gateways share their slots between tenants first). Loaded, never persisted.
 */
public record RecordContext(PipelinePlan plan, RecordInput input, String tenant) {

  public RecordContext(PipelinePlan plan, RecordInput input) {
    this(plan, input, null);
  }
}
