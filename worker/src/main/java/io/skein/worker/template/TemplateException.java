package io.skein.worker.template;

/** A template that cannot be parsed or rendered, with Jinjava's reason. */
public final class TemplateException extends RuntimeException {

  public TemplateException(String message) {
    super(message);
  }
}
