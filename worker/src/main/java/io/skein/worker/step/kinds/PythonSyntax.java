package io.skein.worker.step.kinds;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Pattern;
import org.treesitter.TSInputEncoding;
import org.treesitter.TSNode;
import org.treesitter.TSParser;
import org.treesitter.TSTree;
import org.treesitter.TreeSitterPython;

/**
 * The Python 3 syntax check behind {@code validator: python}: tree-sitter-python parses the code (a
 * real parser, in-process through JNI: no interpreter, no subprocess), and its tree is then checked
 * for what tree-sitter's error-tolerant grammar lets through and CPython rejects: indentation (an
 * empty block, an unexpected indent, an unindent that matches no block) and the Python 2 forms the
 * grammar still accepts ({@code print x}, {@code exec}, {@code <>}, {@code except E, e},
 * {@code raise E, m}, backticks, {@code ur''}, {@code 0777}, {@code 10L}).
 */
final class PythonSyntax {

  /** How long one parse may take: it runs inside a record's actor; ~150 KB of code parse in that time. */
  static final long BUDGET_NANOS = 250_000_000L;
  static final int MAX_ERRORS = 10;

  private static final Pattern LEADING_ZEROS = Pattern.compile("0[0-9_]*[1-9][0-9_]*");
  private static final String UNAVAILABLE = probe();

  private PythonSyntax() {}

  /** Why this platform cannot check Python (tree-sitter's native library did not load), or null when it can. */
  static String unavailable() {
    return UNAVAILABLE;
  }

  /** What is wrong with {@code code} as Python 3, each with its line and column; empty when it parses. */
  static List<String> errors(String code) {
    if (code.isBlank()) {
      return List.of("empty, not Python");
    }
    TSTree tree = parse(code);
    if (tree == null) {
      return List.of("not checked: parsing " + code.length() + " characters took over " + BUDGET_NANOS / 1_000_000 + " ms");
    }
    return new Walk(code).errors(tree.getRootNode());
  }

  private static TSTree parse(String code) {
    byte[] bytes = code.getBytes(StandardCharsets.UTF_8);
    long deadline = System.nanoTime() + BUDGET_NANOS;
    TSParser parser = new TSParser();
    parser.setLanguage(new TreeSitterPython());
    return parser.parseWithOptions(bytes, null, (buffer, offset, point) -> {
      int n = Math.max(0, Math.min(buffer.length, bytes.length - offset));
      System.arraycopy(bytes, offset, buffer, 0, n);
      return n;
    }, TSInputEncoding.TSInputEncodingUTF8, state -> System.nanoTime() > deadline);
  }

  private static String probe() {
    try {
      parse("pass\n");
      return null;
    } catch (LinkageError | RuntimeException e) {
      return "tree-sitter's native library does not load on " + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + ": " + e;
    }
  }

  /** One pass over a parsed tree, without recursion (a hostile answer may nest deeply). */
  private static final class Walk {
    private final String[] lines;
    private final byte[] bytes;
    private final List<String> errors = new ArrayList<>();

    Walk(String code) {
      this.lines = code.split("\n", -1);
      this.bytes = code.getBytes(StandardCharsets.UTF_8);
    }

    List<String> errors(TSNode root) {
      Deque<TSNode> todo = new ArrayDeque<>();
      todo.push(root);
      block(root, null);
      while (!todo.isEmpty() && errors.size() < MAX_ERRORS) {
        TSNode node = todo.pop();
        if (check(node)) {
          for (int i = node.getChildCount() - 1; i >= 0; i--) {
            todo.push(node.getChild(i));
          }
        }
      }
      return errors.size() > MAX_ERRORS ? errors.subList(0, MAX_ERRORS) : errors;
    }

    /** Reports what is wrong with this node itself; false when its children need no look. */
    private boolean check(TSNode node) {
      if (node.isMissing()) {
        error(node, "missing `" + node.getType() + "`");
        return false;
      }
      if (node.isError()) {
        error(node, "invalid syntax at `" + excerpt(node) + "`");
        return false;
      }
      switch (node.getType()) {
        case "block" -> block(node, node.getParent());
        case "print_statement" -> error(node, "`print` is a function in Python 3: print(...)");
        case "exec_statement" -> error(node, "`exec` is a function in Python 3: exec(...)");
        case "<>" -> error(node, "`<>` is not Python 3: use `!=`");
        case "except_clause" -> {
          if (hasChild(node, ",")) {
            error(node, "`except E, e` is Python 2: use `except E as e`");
          }
        }
        case "raise_statement" -> {
          if (node.getNamedChildCount() > 0 && node.getNamedChild(0).getType().equals("expression_list")) {
            error(node, "`raise E, message` is Python 2: use `raise E(message)`");
          }
        }
        case "string_start" -> {
          String start = text(node).toLowerCase();
          if (start.startsWith("`")) {
            error(node, "backticks are Python 2: use repr(...)");
          } else if (start.contains("u") && (start.contains("r") || start.contains("b") || start.contains("f"))) {
            error(node, "invalid string prefix `" + start.replaceAll("['\"]", "") + "`");
          }
        }
        case "integer" -> {
          String digits = text(node);
          if (digits.endsWith("l") || digits.endsWith("L")) {
            error(node, "`" + digits + "`: Python 3 has no long literals (drop the L)");
          } else if (LEADING_ZEROS.matcher(digits).matches()) {
            error(node, "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers");
          }
        }
        default -> { }
      }
      return true;
    }

    /** CPython's indentation rules for the statements of a block ({@code header} null: the module). */
    private void block(TSNode block, TSNode header) {
      String outer = header == null ? null : indent(row(header));
      String expected = null;
      int statements = 0;
      for (int i = 0; i < block.getNamedChildCount(); i++) {
        TSNode statement = block.getNamedChild(i);
        if (statement.getType().equals("comment")) {
          continue;
        }
        statements++;
        int row = row(statement);
        String indent = indent(row);
        if (indent.length() != statement.getStartPoint().getColumn()) {
          continue; // not first on its line: `if x: y` or `a = 1; b = 2`
        }
        if (expected == null) {
          expected = indent;
          if (outer == null ? !indent.isEmpty() : !(indent.startsWith(outer) && indent.length() > outer.length())) {
            error(statement, outer == null ? "unexpected indent" : "expected an indented block after `" + lines[row(header)].strip() + "`");
            return;
          }
        } else if (!indent.equals(expected)) {
          error(statement, indent.length() > expected.length() || outer == null
              ? "unexpected indent" : "unindent does not match any outer indentation level");
          return;
        }
      }
      if (header != null && statements == 0) {
        error(header, "expected an indented block after `" + lines[row(header)].strip() + "`");
      }
    }

    private boolean hasChild(TSNode node, String type) {
      for (int i = 0; i < node.getChildCount(); i++) {
        if (node.getChild(i).getType().equals(type)) {
          return true;
        }
      }
      return false;
    }

    private int row(TSNode node) {
      return node.getStartPoint().getRow();
    }

    private String indent(int row) {
      String line = row < lines.length ? lines[row] : "";
      int i = 0;
      while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t' || line.charAt(i) == '\f')) {
        i++;
      }
      return line.substring(0, i);
    }

    private String text(TSNode node) {
      int start = Math.min(node.getStartByte(), bytes.length);
      int end = Math.min(node.getEndByte(), bytes.length);
      return new String(bytes, start, end - start, StandardCharsets.UTF_8);
    }

    private String excerpt(TSNode node) {
      String first = text(node).strip().lines().findFirst().orElse("");
      return first.length() > 40 ? first.substring(0, 40) + "…" : first;
    }

    private void error(TSNode node, String message) {
      String at = "line " + (row(node) + 1) + ", column " + (node.getStartPoint().getColumn() + 1) + ": ";
      errors.add(at + message);
    }
  }
}
