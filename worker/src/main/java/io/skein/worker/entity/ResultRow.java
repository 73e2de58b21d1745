package io.skein.worker.entity;

/**
 * A record's entry in the results ledger: its output or error row (JSON), the extra detail that
 * annotated exports add (input, every call, timings), and its cost in calls and tokens.
 */
public record ResultRow(
    String jobId, long index, boolean succeeded, String row, String detail, int calls, long tokens) {}
