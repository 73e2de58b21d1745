package io.skein.protocol.spec;

import java.util.List;
import java.util.Map;

/**
 * The shape of an output row: {@code messages} (training data, the default being the last step's
 * conversation) and extra top-level {@code fields}, each a template.
 */
public record OutputSpec(List<MessageTemplate> messages, Map<String, String> fields) {

  public static final OutputSpec DEFAULT = new OutputSpec(null, Map.of());
}
