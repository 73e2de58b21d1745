package io.skein.protocol;

/**
 * Marker for every message and event that crosses a node or reaches the journal. It is bound to
 * Pekko's Jackson CBOR serializer in {@code serialization.conf}, so nothing falls back to Java
 * serialization.
 */
public interface CborSerializable {}
