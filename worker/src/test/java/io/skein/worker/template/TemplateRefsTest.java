package io.skein.worker.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;
import org.junit.jupiter.api.Test;

class TemplateRefsTest {

  private static Set<String> refs(String template) {
    return TemplateRefs.references(template);
  }

  @Test
  void namesAreTheRootsOfExpressions() {
    assertEquals(Set.of("topic"), refs("Write about {{ topic }}."));
    assertEquals(Set.of("q"), refs("{{ q | upper }}"), "filters are not names");
    assertEquals(Set.of("rec"), refs("{{ rec.topic }} {{ rec['x'] }}"), "attributes are not names");
    assertEquals(Set.of("a", "b"), refs("{{ a ~ ' and ' ~ b }}"));
    assertEquals(Set.of("x"), refs("{{ x | default('none') | truncate(length=20) }}"), "named arguments are not names");
    assertEquals(Set.of("n"), refs("{{ n is even }} {{ n is not odd }}"), "tests are not names");
    assertEquals(Set.of("items"), refs("{{ range(3) }}{{ items }}"), "called functions are not names");
    assertEquals(Set.of(), refs("{{ 'topic' }} {{ \"{{ nested }}\" }}"), "strings are not names");
  }

  @Test
  void tagsReadNamesAndDefineLocals() {
    assertEquals(Set.of("items"), refs("{% for x in items %}{{ x }} {{ loop.index }}{% endfor %}"));
    assertEquals(Set.of("pairs"), refs("{% for k, v in pairs %}{{ k }}={{ v }}{% endfor %}"));
    assertEquals(Set.of("a", "b"), refs("{% set total = a + b %}{{ total }}"));
    assertEquals(Set.of("flag", "other", "x"), refs("{% if flag %}{{ x }}{% elif other %}y{% else %}z{% endif %}"));
    assertEquals(Set.of("topic"), refs("{% macro show(v) %}[{{ v }}]{% endmacro %}{{ show(topic) }}"));
  }

  @Test
  void commentsAndRawBlocksAreIgnored() {
    assertEquals(Set.of("b"), refs("{# {{ a }} #}{{ b }}"));
    assertEquals(Set.of("c"), refs("{% raw %}{{ a }}{% endraw %}{{ c }}"));
    assertEquals(Set.of(), refs("plain text with { braces }"));
  }

  @Test
  void unbalancedTemplatesAreErrors() {
    assertThrows(TemplateException.class, () -> refs("{{ topic "));
    assertThrows(TemplateException.class, () -> refs("{% if x %"));
    assertThrows(TemplateException.class, () -> refs("{{ f(x }}"));
    assertThrows(TemplateException.class, () -> refs("{{ x) }}"));
    assertThrows(TemplateException.class, () -> refs("{{ }}"));
    assertThrows(TemplateException.class, () -> refs("{{ 'open }}"));
    assertThrows(TemplateException.class, () -> refs("{# never closed"));
  }
}
