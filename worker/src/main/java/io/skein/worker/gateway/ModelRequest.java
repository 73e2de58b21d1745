package io.skein.worker.gateway;

import io.skein.protocol.CallId;

/**
 * One attempt of one call: who makes it, the exact request body (canonical JSON, with the seed
 * derived from the call's identity), its fingerprint, and the tokens it may use (for budgets).
 * Never carries credentials.
 */
public record ModelRequest(
    String recordKey, CallId callId, int attempt, String model, String body, String fingerprint, long estimatedTokens) {}
