package io.skein.worker.template;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.TemplateError.ErrorType;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Renders Jinja templates in a sandbox: no nested interpretation (a model's answer containing
 * {@code {{ }}} stays text), no includes or imports (the resource locator loads nothing), unknown
 * names fail the render, output and loops are bounded, and the context holds plain values only.
 * Thread-safe; one instance serves a node.
 */
public final class Templates {

  public static final long MAX_OUTPUT_CHARS = 1_000_000;

  private static final Templates INSTANCE = new Templates();

  private final Jinjava jinjava;

  private Templates() {
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            .withFailOnUnknownTokens(true)
            .withNestedInterpretationEnabled(false)
            .withEnableRecursiveMacroCalls(false)
            .withMaxRenderDepth(1)
            .withMaxOutputSize(MAX_OUTPUT_CHARS)
            .withMaxStringLength(MAX_OUTPUT_CHARS)
            .withMaxListSize(10_000)
            .withMaxMapSize(10_000)
            .withRangeLimit(1_000)
            .withElResolver(new SandboxElResolver())
            .withDisabled(Map.of(Context.Library.TAG, Set.of("include", "import", "from", "extends")))
            .build();
    jinjava = new Jinjava(config);
    jinjava.setResourceLocator(
        (name, encoding, interpreter) -> {
          throw new java.io.IOException("templates cannot load other templates or files (" + name + ")");
        });
  }

  public static Templates get() {
    return INSTANCE;
  }

  /** Renders {@code template} against plain values (String, Number, Boolean, List, Map, null). */
  public String render(String template, Map<String, ?> context) {
    if (template.indexOf('{') < 0) {
      return template;
    }
    RenderResult result;
    try {
      result = jinjava.renderForResult(template, context);
    } catch (RuntimeException e) {
      throw new TemplateException(e.getMessage() == null ? e.toString() : e.getMessage());
    }
    var fatal = result.getErrors().stream().filter(e -> e.getSeverity() == ErrorType.FATAL).toList();
    if (!fatal.isEmpty()) {
      throw new TemplateException(fatal.stream().map(Templates::describe).collect(Collectors.joining("; ")));
    }
    return result.getOutput();
  }

  private static String describe(TemplateError e) {
    String message = e.getMessage() == null ? e.getReason().name() : e.getMessage();
    if (e.getReason() == TemplateError.ErrorReason.UNKNOWN && e.getFieldName() != null) {
      message = "unknown name `" + e.getFieldName() + "`";
    }
    return e.getLineno() > 0 ? message + " (line " + e.getLineno() + ")" : message;
  }
}
