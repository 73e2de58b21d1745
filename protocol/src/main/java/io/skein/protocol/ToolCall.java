package io.skein.protocol;

/**
 * A tool call a model asked for, as OpenAI's {@code tool_calls[i]}: the model's id for it, the
 * tool's name and its arguments as the model wrote them (a JSON object, as text: a model may write
 * one that does not parse, and that is the tool's answer to give).
 */
public record ToolCall(String id, String name, String arguments) implements CborSerializable {}
