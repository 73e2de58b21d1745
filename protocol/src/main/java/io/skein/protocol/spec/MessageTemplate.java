package io.skein.protocol.spec;

/** A chat message whose content is a Jinja template. */
public record MessageTemplate(String role, String content) {}
