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
            .withNodePreProcessor((node, interpreter) -> RenderBudget.check())
            .withDisabled(Map.of(Context.Library.TAG, Set.of("include", "import", "from", "extends")))
            .build();
    jinjava = new Jinjava(config);
    // Jinjava's own range stops at the limit without a word: a loop that silently does less than
    // it says is worse than one that fails, so this range refuses instead.
    jinjava.getGlobalContext().registerFunction(new com.hubspot.jinjava.lib.fn.ELFunctionDefinition(
        "", "range", Templates.class, "range", Object.class, Object[].class));
    jinjava.setResourceLocator(
        (name, encoding, interpreter) -> {
          throw new java.io.IOException("templates cannot load other templates or files (" + name + ")");
        });
  }

  /** The most numbers one {@code range(...)} may make. */
  public static final int MAX_RANGE = 1_000;

  /** Jinja's {@code range(stop)}, {@code range(start, stop[, step])}, refusing more than {@link #MAX_RANGE} numbers. */
  public static java.util.List<Long> range(Object first, Object... rest) {
    long start = 0;
    long stop;
    long step = 1;
    if (rest == null || rest.length == 0) {
      stop = whole(first);
    } else {
      start = whole(first);
      stop = whole(rest[0]);
      step = rest.length > 1 ? whole(rest[1]) : 1;
    }
    if (step == 0) {
      throw new IllegalArgumentException("range() step must not be zero");
    }
    long count = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
    if (count > MAX_RANGE) {
      throw new IllegalArgumentException("range(" + start + ", " + stop + ", " + step + ") would make " + count
          + " numbers; a template may loop over at most " + MAX_RANGE);
    }
    java.util.List<Long> out = new java.util.ArrayList<>((int) count);
    for (long i = 0, v = start; i < count; i++, v += step) {
      out.add(v);
    }
    return out;
  }

  private static long whole(Object v) {
    if (v instanceof Number n) {
      return n.longValue();
    }
    try {
      return Long.parseLong(String.valueOf(v).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("range() takes whole numbers, got `" + v + "`");
    }
  }

  public static Templates get() {
    return INSTANCE;
  }

  /** Renders {@code template} against plain values (String, Number, Boolean, List, Map, null). */
  public String render(String template, Map<String, ?> context) {
    if (template.indexOf('{') < 0) {
      return template;
    }
    SimpleTemplate simple = simple(template);
    if (simple != null) {
      String out = simple.render(context);
      if (out != null) {
        return out;
      }
    }
    return renderWithJinjava(template, context);
  }

  private String renderWithJinjava(String template, Map<String, ?> context) {
    warmUp();
    RenderResult result;
    RenderBudget budget = RenderBudget.start();
    try {
      result = jinjava.renderForResult(template, context);
    } catch (RenderBudget.Exceeded e) {
      throw new TemplateException(e.getMessage());
    } catch (RuntimeException e) {
      throw new TemplateException(e.getMessage() == null ? e.toString() : e.getMessage());
    } finally {
      budget.close();
    }
    if (budget.exceeded()) {
      throw new TemplateException(RenderBudget.message());
    }
    var fatal = result.getErrors().stream().filter(e -> e.getSeverity() == ErrorType.FATAL).toList();
    if (!fatal.isEmpty()) {
      throw new TemplateException(fatal.stream().map(Templates::describe).collect(Collectors.joining("; ")));
    }
    return result.getOutput();
  }

  private volatile boolean warm;

  /**
   * Jinjava's first render in a JVM loads and links its parser, tags, filters and expression
   * resolver: several hundred milliseconds, more on a busy node. That is not the template's time,
   * so it is spent once, here, outside any render's budget (and not at all on a node whose
   * templates are all simple substitutions).
   */
  private void warmUp() {
    if (warm) {
      return;
    }
    synchronized (this) {
      if (!warm) {
        jinjava.renderForResult("{% set n = namespace(k=0) %}{% for x in xs %}{% if x != y ~ '-' and x | length > 0 %}"
            + "{{ x | upper }}{% set n.k = n.k + 1 %}{% endif %}{% endfor %}{{ n.k }}{{ m.a | default('') }}",
            Map.of("xs", java.util.List.of("a", "b"), "y", "a", "m", Map.of("a", 1)));
        warm = true;
      }
    }
  }

  private final java.util.concurrent.ConcurrentHashMap<String, java.util.Optional<SimpleTemplate>> simple =
      new java.util.concurrent.ConcurrentHashMap<>();

  private SimpleTemplate simple(String template) {
    if (simple.size() > 10_000) {
      simple.clear();
    }
    return simple.computeIfAbsent(template, t -> java.util.Optional.ofNullable(SimpleTemplate.parse(t))).orElse(null);
  }

  /**
   * Most prompts are text with {@code {{ name }}} or {@code {{ name.field }}} holes. Those render
   * here without building a Jinjava interpreter (the bulk of a call's CPU otherwise), when every
   * value is a string or a whole number: exactly what Jinjava would print. Anything else, or a
   * missing name, goes to Jinjava, which renders it or reports the error.
   */
  private record SimpleTemplate(java.util.List<String> literals, java.util.List<String[]> names) {
    private static final java.util.regex.Pattern HOLE =
        java.util.regex.Pattern.compile("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)\\s*}}");

    static SimpleTemplate parse(String template) {
      if (template.contains("{%") || template.contains("{#")) {
        return null;
      }
      java.util.List<String> literals = new java.util.ArrayList<>();
      java.util.List<String[]> names = new java.util.ArrayList<>();
      var m = HOLE.matcher(template);
      int last = 0;
      while (m.find()) {
        literals.add(template.substring(last, m.start()));
        names.add(m.group(1).split("\\."));
        last = m.end();
      }
      String tail = template.substring(last);
      if (tail.contains("{{") || literals.stream().anyMatch(l -> l.contains("{{"))) {
        return null;
      }
      literals.add(tail);
      return new SimpleTemplate(literals, names);
    }

    /** The rendered text, or null when Jinjava must decide. */
    String render(Map<String, ?> context) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < names.size(); i++) {
        sb.append(literals.get(i));
        Object value = context.get(names.get(i)[0]);
        for (int p = 1; p < names.get(i).length && value != null; p++) {
          value = value instanceof Map<?, ?> map ? map.get(names.get(i)[p]) : null;
        }
        if (value instanceof String str) {
          sb.append(str);
        } else if (value instanceof Long || value instanceof Integer) {
          sb.append(value);
        } else {
          return null;
        }
      }
      sb.append(literals.get(literals.size() - 1));
      return sb.length() > MAX_OUTPUT_CHARS ? null : sb.toString();
    }
  }

  private static String describe(TemplateError e) {
    String message = e.getMessage() == null ? e.getReason().name() : e.getMessage();
    if (e.getReason() == TemplateError.ErrorReason.UNKNOWN && e.getFieldName() != null) {
      message = "unknown name `" + e.getFieldName() + "`";
    }
    // A function that refused (range past its cap, say) says why in its own exception.
    for (Throwable t = e.getException(); t != null && t != t.getCause(); t = t.getCause()) {
      if (t instanceof IllegalArgumentException && t.getMessage() != null) {
        message = message + ": " + t.getMessage();
        break;
      }
    }
    return e.getLineno() > 0 ? message + " (line " + e.getLineno() + ")" : message;
  }
}
