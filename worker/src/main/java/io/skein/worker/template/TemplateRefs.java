package io.skein.worker.template;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds the names a Jinja template reads from its context, without rendering it: the roots of
 * {@code {{ expressions }}} and of tag expressions ({@code if}, {@code for ... in}, {@code set}).
 * Names the template defines itself (loop variables, {@code set}, macros and their parameters),
 * attributes after a dot, filters, tests and called functions are not references. This is what
 * lets a spec's step graph be derived from its templates and checked before anything runs.
 */
public final class TemplateRefs {

  private static final Set<String> KEYWORDS =
      Set.of("and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False", "None", "recursive");

  private TemplateRefs() {}

  /** The names {@code template} reads, in order of first use; throws on unbalanced delimiters. */
  public static Set<String> references(String template) {
    List<String> expressions = new ArrayList<>();
    Set<String> locals = new LinkedHashSet<>();
    int i = 0;
    while (true) {
      int open = template.indexOf('{', i);
      if (open < 0 || open + 1 >= template.length()) {
        break;
      }
      char kind = template.charAt(open + 1);
      if (kind == '#') {
        int end = template.indexOf("#}", open + 2);
        if (end < 0) {
          throw new TemplateException("comment `{#` is never closed with `#}`");
        }
        i = end + 2;
      } else if (kind == '{' || kind == '%') {
        String close = kind == '{' ? "}}" : "%}";
        int end = closing(template, open + 2, close);
        String body = template.substring(open + 2, end).trim();
        body = strip(body);
        i = end + 2;
        if (kind == '{') {
          if (body.isEmpty()) {
            throw new TemplateException("empty expression `{{ }}`");
          }
          expressions.add(body);
        } else {
          i = tag(template, body, i, expressions, locals);
        }
      } else {
        i = open + 1;
      }
    }
    Set<String> refs = new LinkedHashSet<>();
    for (String expression : expressions) {
      for (String name : roots(expression)) {
        if (!locals.contains(name)) {
          refs.add(name);
        }
      }
    }
    return refs;
  }

  private static String strip(String body) {
    String b = body;
    if (b.startsWith("-") || b.startsWith("+")) {
      b = b.substring(1);
    }
    if (b.endsWith("-") || b.endsWith("+")) {
      b = b.substring(0, b.length() - 1);
    }
    return b.trim();
  }

  private static int closing(String template, int from, String close) {
    char quote = 0;
    for (int j = from; j < template.length() - 1; j++) {
      char c = template.charAt(j);
      if (quote != 0) {
        if (c == '\\') {
          j++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (template.startsWith(close, j)) {
        return j;
      }
    }
    throw new TemplateException("`" + (close.equals("}}") ? "{{" : "{%") + "` at offset " + (from - 2)
        + " is never closed with `" + close + "`");
  }

  private static int tag(String template, String body, int next, List<String> expressions, Set<String> locals) {
    List<Token> tokens = tokenize(body);
    if (tokens.isEmpty() || tokens.get(0).kind != Kind.NAME) {
      throw new TemplateException("malformed tag `{% " + body + " %}`");
    }
    String word = tokens.get(0).text;
    String rest = body.substring(word.length()).trim();
    switch (word) {
      case "raw" -> {
        int end = template.indexOf("endraw", next);
        if (end < 0) {
          throw new TemplateException("`{% raw %}` is never closed with `{% endraw %}`");
        }
        int close = template.indexOf("%}", end);
        return close < 0 ? template.length() : close + 2;
      }
      case "for" -> {
        int in = indexOfWord(tokens, "in");
        if (in < 0) {
          throw new TemplateException("`{% for %}` needs `in`: " + body);
        }
        for (int t = 1; t < in; t++) {
          if (tokens.get(t).kind == Kind.NAME) {
            locals.add(tokens.get(t).text);
          }
        }
        locals.add("loop");
        expressions.add(join(tokens, in + 1));
      }
      case "set" -> {
        int eq = indexOfText(tokens, "=");
        int end = eq < 0 ? tokens.size() : eq;
        for (int t = 1; t < end; t++) {
          if (tokens.get(t).kind == Kind.NAME) {
            locals.add(tokens.get(t).text);
          }
        }
        if (eq >= 0) {
          expressions.add(join(tokens, eq + 1));
        }
      }
      case "macro" -> {
        for (Token t : tokens.subList(1, tokens.size())) {
          if (t.kind == Kind.NAME) {
            locals.add(t.text);
          }
        }
      }
      case "if", "elif" -> expressions.add(rest);
      case "filter", "call" -> {
        // the filter or macro name is not a reference
      }
      default -> {
        if (!word.startsWith("end") && !word.equals("else") && !rest.isEmpty()) {
          expressions.add(rest);
        }
      }
    }
    return next;
  }

  private static int indexOfWord(List<Token> tokens, String word) {
    for (int t = 0; t < tokens.size(); t++) {
      if (tokens.get(t).kind == Kind.NAME && tokens.get(t).text.equals(word)) {
        return t;
      }
    }
    return -1;
  }

  private static int indexOfText(List<Token> tokens, String text) {
    for (int t = 0; t < tokens.size(); t++) {
      if (tokens.get(t).text.equals(text)) {
        return t;
      }
    }
    return -1;
  }

  private static String join(List<Token> tokens, int from) {
    StringBuilder sb = new StringBuilder();
    for (Token t : tokens.subList(Math.min(from, tokens.size()), tokens.size())) {
      sb.append(t.kind == Kind.STRING ? "''" : t.text).append(' ');
    }
    return sb.toString();
  }

  /** Root names of one expression. */
  static List<String> roots(String expression) {
    List<Token> tokens = tokenize(expression);
    checkBalanced(tokens, expression);
    List<String> out = new ArrayList<>();
    int depth = 0;
    for (int t = 0; t < tokens.size(); t++) {
      Token token = tokens.get(t);
      if (token.text.equals("(") || token.text.equals("[") || token.text.equals("{")) {
        depth++;
      } else if (token.text.equals(")") || token.text.equals("]") || token.text.equals("}")) {
        depth--;
      }
      if (token.kind != Kind.NAME || KEYWORDS.contains(token.text)) {
        continue;
      }
      String prev = t > 0 ? tokens.get(t - 1).text : "";
      String next = t + 1 < tokens.size() ? tokens.get(t + 1).text : "";
      boolean attribute = prev.equals(".");
      boolean filterOrTest = prev.equals("|") || prev.equals("is") || (prev.equals("not") && t > 1 && tokens.get(t - 2).text.equals("is"));
      boolean call = next.equals("(");
      boolean namedArgument = depth > 0 && next.equals("=");
      if (!attribute && !filterOrTest && !call && !namedArgument) {
        out.add(token.text);
      }
    }
    return out;
  }

  private static void checkBalanced(List<Token> tokens, String expression) {
    StringBuilder stack = new StringBuilder();
    for (Token t : tokens) {
      switch (t.text) {
        case "(" -> stack.append(')');
        case "[" -> stack.append(']');
        case "{" -> stack.append('}');
        case ")", "]", "}" -> {
          if (stack.length() == 0 || stack.charAt(stack.length() - 1) != t.text.charAt(0)) {
            throw new TemplateException("unbalanced `" + t.text + "` in `" + expression + "`");
          }
          stack.setLength(stack.length() - 1);
        }
        default -> {}
      }
    }
    if (stack.length() > 0) {
      throw new TemplateException("`" + expression + "` is missing `" + stack.reverse() + "`");
    }
  }

  private enum Kind { NAME, STRING, NUMBER, PUNCT }

  private record Token(Kind kind, String text) {}

  private static List<Token> tokenize(String s) {
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '\'' || c == '"') {
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != c) {
          j += s.charAt(j) == '\\' ? 2 : 1;
        }
        if (j >= s.length()) {
          throw new TemplateException("unterminated string in `" + s + "`");
        }
        tokens.add(new Token(Kind.STRING, s.substring(i, j + 1)));
        i = j + 1;
      } else if (Character.isLetter(c) || c == '_') {
        int j = i;
        while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
          j++;
        }
        tokens.add(new Token(Kind.NAME, s.substring(i, j)));
        i = j;
      } else if (Character.isDigit(c)) {
        int j = i;
        while (j < s.length() && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '.')) {
          j++;
        }
        tokens.add(new Token(Kind.NUMBER, s.substring(i, j)));
        i = j;
      } else {
        tokens.add(new Token(Kind.PUNCT, String.valueOf(c)));
        i++;
      }
    }
    return tokens;
  }
}
