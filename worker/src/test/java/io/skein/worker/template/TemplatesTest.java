package io.skein.worker.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TemplatesTest {

  private static final Templates T = Templates.get();

  @Test
  void rendersValuesFiltersAndLoops() {
    Map<String, Object> ctx = Map.of("topic", "tea", "n", 3L, "items", List.of("a", "b"), "rec", Map.of("k", "v"));
    assertEquals("About tea (3).", T.render("About {{ topic }} ({{ n }}).", ctx));
    assertEquals("TEA", T.render("{{ topic | upper }}", ctx));
    assertEquals("a,b,", T.render("{% for i in items %}{{ i }},{% endfor %}", ctx));
    assertEquals("v", T.render("{{ rec.k }}", ctx));
    assertEquals("yes", T.render("{% if n > 2 %}yes{% else %}no{% endif %}", ctx));
  }

  @Test
  void theFastPathPrintsWhatJinjavaPrints() {
    Map<String, Object> ctx = Map.of("s", "x{y}", "n", 42L, "d", 1.5, "b", true, "list", List.of(1L, 2L), "m", Map.of("a", "b"));
    // Plain holes take the fast path; the same text rendered through a filter goes through Jinjava.
    for (String name : List.of("s", "n", "d", "b", "list", "m")) {
      assertEquals(T.render("<{{ " + name + " | string }}>", ctx), T.render("<{{ " + name + " }}>", ctx), name);
    }
    assertEquals("b", T.render("{{ m.a }}", ctx));
  }

  @Test
  void anUnknownNameFailsTheRenderNamingIt() {
    TemplateException e = assertThrows(TemplateException.class, () -> T.render("Hi {{ nobody }}", Map.of()));
    assertTrue(e.getMessage().contains("nobody"), e.getMessage());
    assertThrows(TemplateException.class, () -> T.render("{{ rec.missing.deeper }}", Map.of("rec", Map.of())));
  }

  @Test
  void javaClassesAndMethodsAreOutOfReach() {
    Map<String, Object> ctx = Map.of("topic", "tea");
    for (String attack : List.of(
        "{{ topic.getClass() }}",
        "{{ topic.getClass().forName('java.lang.Runtime') }}",
        "{{ ''.getClass().forName('java.lang.Runtime').getRuntime() }}",
        "{{ topic.toUpperCase() }}",
        "{{ topic.class.name }}",
        "{{ topic.bytes }}")) {
      String rendered;
      try {
        rendered = T.render(attack, ctx);
      } catch (TemplateException expected) {
        continue;
      }
      assertFalse(rendered.contains("java") || rendered.contains("class") || rendered.contains("TEA") || rendered.contains("["),
          attack + " rendered " + rendered);
    }
  }

  @Test
  void templatesCannotLoadOtherTemplates() {
    for (String t : List.of("{% include '/etc/passwd' %}", "{% import 'x.j2' as x %}", "{% from 'x' import y %}", "{% extends 'base' %}")) {
      assertThrows(TemplateException.class, () -> T.render(t, Map.of()), t);
    }
  }

  @Test
  void aModelAnswerContainingTemplateSyntaxStaysText() {
    String answer = "Use {{ secret }} and {% for x in y %}";
    assertEquals("Answer: " + answer, T.render("Answer: {{ a }}", Map.of("a", answer)));
    assertEquals(answer.toUpperCase(), T.render("{{ a | upper }}", Map.of("a", answer)));
  }

  @Test
  void loopsAndOutputAreBounded() {
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      TemplateException e = assertThrows(TemplateException.class, () -> T.render("{% for i in range(100000000) %}x{% endfor %}", Map.of()));
      assertTrue(e.getMessage().contains("would make 100000000 numbers; a template may loop over at most 1000"), e.getMessage());
      assertEquals("0,1,2", T.render("{{ range(3) | join(',') }}", Map.of()));
      assertEquals("2,4,6", T.render("{{ range(2, 8, 2) | join(',') }}", Map.of()));
      assertEquals("5,4", T.render("{{ range(5, 3, -1) | join(',') }}", Map.of()));
      assertEquals(1000, T.render("{% for i in range(1000) %}x{% endfor %}", Map.of()).length(), "the cap itself is allowed");
    });
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      String big = "y".repeat(100_000);
      assertThrows(TemplateException.class,
          () -> T.render("{% for i in range(1000) %}{{ big }}{% endfor %}", Map.of("big", big)));
    });
  }

  @Test
  void nestedLoopsAreCutOffWithinTheRenderBudget() {
    for (String t : List.of(
        "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}",
        "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% set x = i * j * k %}{% endfor %}{% endfor %}{% endfor %}",
        "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}{% endfor %}")) {
      long start = System.nanoTime();
      TemplateException e = assertThrows(TemplateException.class,
          () -> T.render(t, Map.of("xs", java.util.Collections.nCopies(5000, 1L))), t);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(e.getMessage().contains("ran past its budget of " + RenderBudget.MAX_MILLIS + " ms"), e.getMessage());
      assertTrue(ms < 3 * RenderBudget.MAX_MILLIS, t + " took " + ms + " ms");
    }
    assertEquals("ok", T.render("{% for i in range(100) %}{% endfor %}ok", Map.of()), "a render after a cut-off one has its own budget");
  }

  @Test
  void theEnginesOwnObjectsAreOutOfReachAndJinjasOwnMethodsStillWork() {
    // CVE-2025-59340 went through the interpreter's config to its object mapper; CVE-2020-12668 through getClass().
    for (String attack : List.of(
        "{{ ____int3rpr3t3r____.config.objectMapper }}",
        "{{ ____int3rpr3t3r____.context.globalContext }}",
        "{{ ____int3rpr3t3r____.render('{{ 1 + 1 }}') }}",
        "{% set ji = ''.getClass().forName('com.hubspot.jinjava.Jinjava').newInstance().newInterpreter() %}{{ ji.render('{{1*2}}') }}",
        "{{ range(3).getClass() }}")) {
      assertThrows(TemplateException.class, () -> T.render(attack, Map.of()), attack);
    }
    assertEquals("[1, 2]", T.render("{% set l = [1] %}{% do l.append(2) %}{{ l }}", Map.of()));
    assertEquals("1false2true", T.render("{% for i in [1, 2] %}{{ loop.index }}{{ loop.last }}{% endfor %}", Map.of()));
    assertEquals("2", T.render("{% set ns = namespace(a=1) %}{% set ns.a = 2 %}{{ ns.a }}", Map.of()));
    assertEquals("a1", T.render("{% for k, v in {'a': 1}.items() %}{{ k }}{{ v }}{% endfor %}", Map.of()));
    assertEquals("7", T.render("{% macro f(x) %}{{ x }}{% endmacro %}{{ f(7) }}", Map.of()));
  }
}
