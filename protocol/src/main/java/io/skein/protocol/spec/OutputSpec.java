package io.skein.protocol.spec;

import java.util.List;
import java.util.Map;

/**
 * The shape of an output row, when a spec gives one: {@code messages} (training data, the default
 * being the last step's conversation) and extra top-level {@code fields}, each a template. A spec
 * without {@code output} gets rows of every field and step value instead (Data Designer's shape).
 */
public record OutputSpec(List<MessageTemplate> messages, Map<String, String> fields) {}
