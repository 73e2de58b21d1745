package io.skein.worker.step.kinds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Python 3 as CPython's parser takes it: what parses passes; what does not names its line and why. */
class PythonSyntaxTest {

  private static void valid(String code) {
    assertEquals(List.of(), PythonSyntax.errors(code), code);
  }

  private static String invalid(String code) {
    List<String> errors = PythonSyntax.errors(code);
    assertTrue(!errors.isEmpty(), "should not parse: " + code);
    return errors.get(0);
  }

  @Test
  void modernPythonParses() {
    valid("def f(x, *args, y=3, **kw):\n    return [v * 2 for v in range(x) if v % 3]\n");
    valid("async def g():\n    await h()\n    y = f'{x!r:>{width}}'\n    if (n := len(y)) > 2:\n        pass\n");
    valid("match command:\n    case [\"go\", direction]:\n        move(direction)\n    case _:\n        pass\n");
    valid("def first[T](xs: list[T]) -> T:\n    return xs[0]\ntype Pair = tuple[int, int]\n");
    valid("@dataclass\nclass A:\n    \"\"\"Doc.\"\"\"\n    x: int = 0\n\n    def m(self): return self.x\n");
    valid("if a:\n    pass\nelif b:\n    pass\nelse:\n    x = (1,\n  2)\n");
    valid("try:\n\tpass\nexcept (A, B) as e:\n\traise C() from e\nfinally:\n\tdone()\n");
    valid("x = 1; y = 2\nz = rb'\\x00' + br'' \n# a comment\n    # an indented comment\n");
  }

  @Test
  void brokenCodeNamesTheLine() {
    assertTrue(invalid("def f(x)\n    return x\n").startsWith("line 1"), "a missing colon");
    assertTrue(invalid("import os\nx = (1, 2\n").startsWith("line 2"));
    assertTrue(invalid("x = 1\n1 = x\n").startsWith("line 2"));
    assertTrue(invalid("for i in range(3):\n    print(i))\n").startsWith("line 2"));
    assertEquals("empty, not Python", invalid("  \n"));
  }

  @Test
  void indentationFollowsCPythonsRules() {
    assertTrue(invalid("class A:\npass\n").contains("expected an indented block after `class A:`"));
    assertTrue(invalid("def f():\n  x = 1\n    y = 2\n").equals("line 3, column 5: unexpected indent"));
    assertTrue(invalid("  x = 1\n").contains("unexpected indent"));
    assertTrue(invalid("def f():\n    if x:\n        a = 1\n      b = 2\n").contains("line 4"));
    assertTrue(invalid("def f():\n\tx = 1\n        y = 2\n").contains("line 3"), "a tab and eight spaces are not the same indent");
  }

  @Test
  void python2FormsTheGrammarStillAcceptsAreErrors() {
    assertTrue(invalid("print 'hi'\n").contains("`print` is a function"));
    assertTrue(invalid("exec 'x = 1'\n").contains("`exec` is a function"));
    assertTrue(invalid("if a <> b:\n    pass\n").contains("`!=`"));
    assertTrue(invalid("try:\n    pass\nexcept E, e:\n    pass\n").contains("except E as e"));
    assertTrue(invalid("raise E, 'm'\n").contains("raise E(message)"));
    assertTrue(invalid("y = `x`\n").contains("repr"));
    assertTrue(invalid("s = ur'a'\n").contains("invalid string prefix `ur`"));
    assertTrue(invalid("mode = 0777\n").contains("leading zeros"));
    assertTrue(invalid("n = 10L\n").contains("long literals"));
    valid("a = 0\nb = 00\nc = 0_0\nd = 0o777\ne = 0x1F\n");
  }

  @Test
  void hostileInputIsBoundedInTimeAndErrors() {
    String deep = "x = " + "(".repeat(50_000) + "\n";
    long start = System.nanoTime();
    List<String> errors = PythonSyntax.errors(deep);
    assertTrue(!errors.isEmpty() && errors.size() <= PythonSyntax.MAX_ERRORS, errors.toString());
    String many = "x = (\n".repeat(100) + "def f(:\n".repeat(100);
    assertTrue(PythonSyntax.errors(many).size() <= PythonSyntax.MAX_ERRORS);
    String huge = "x = [1, 2, {'a': 3}]\n".repeat(200_000);
    assertTrue(PythonSyntax.errors(huge).get(0).contains("took over 250 ms"));
    assertTrue(System.nanoTime() - start < 10_000_000_000L, "bounded, not minutes");
  }
}
