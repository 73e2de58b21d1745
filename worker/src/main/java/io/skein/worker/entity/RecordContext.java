package io.skein.worker.entity;

import io.skein.worker.plan.PipelinePlan;

/** What a record needs besides its events: its job's plan and its input. Loaded, never persisted. */
public record RecordContext(PipelinePlan plan, RecordInput input) {}
