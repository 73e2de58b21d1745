package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import io.skein.worker.step.Json;
import io.skein.worker.step.JsonSchemas;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import net.sf.jsqlparser.parser.feature.Feature;
import net.sf.jsqlparser.parser.feature.FeatureConfiguration;
import net.sf.jsqlparser.util.validation.Validation;
import net.sf.jsqlparser.util.validation.ValidationError;
import net.sf.jsqlparser.util.validation.feature.DatabaseType;

/** The checks behind {@code kind: validator}: each compiled once per job from the step's keys, then a pure function of a value. */
final class Validators {

  static final List<String> NAMES = List.of("regex", "length", "json", "json-schema", "sql", "python");
  static final List<String> DIALECTS = List.of("ansi", "postgres", "mysql", "mariadb", "tsql", "oracle", "h2", "sqlite", "bigquery");

  /** How long a regex may run on one value: it runs inside a record's actor, on a model's text. */
  static final long REGEX_BUDGET_NANOS = 100_000_000L;

  /** Text that stops a regex match running past its deadline (java.util.regex has no timeout of its own). */
  private static final class Deadline implements CharSequence {
    static final class Exceeded extends RuntimeException {
      Exceeded() {
        super(null, null, false, false);
      }
    }

    private final CharSequence text;
    private final long deadlineNanos;
    private int reads;

    Deadline(CharSequence text, long deadlineNanos) {
      this.text = text;
      this.deadlineNanos = deadlineNanos;
    }

    @Override
    public char charAt(int index) {
      if ((++reads & 0xfff) == 0 && System.nanoTime() > deadlineNanos) {
        throw new Exceeded();
      }
      return text.charAt(index);
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new Deadline(text.subSequence(start, end), deadlineNanos);
    }

    @Override
    public String toString() {
      return text.toString();
    }
  }

  /** A compiled check: what is wrong with a value (empty: nothing). */
  interface Check {
    List<String> errors(JsonNode value);
  }

  private Validators() {}

  /** The check of {@code validator} with the step's keys; problems with its keys go to {@code problem} (key, message); null if it has any. */
  static Check compile(String validator, JsonNode c, BiConsumer<String, String> problem) {
    switch (validator) {
      case "regex" -> {
        if (!c.path("pattern").isTextual()) {
          problem.accept("pattern", "missing: the regular expression");
          return null;
        }
        try {
          Pattern p = Pattern.compile(c.get("pattern").asText(), c.path("ignore_case").asBoolean(false) ? Pattern.CASE_INSENSITIVE : 0);
          return v -> {
            try {
              return p.matcher(new Deadline(Json.text(v), System.nanoTime() + REGEX_BUDGET_NANOS)).find()
                  ? List.of() : List.of("does not match /" + p.pattern() + "/");
            } catch (Deadline.Exceeded e) {
              return List.of("/" + p.pattern() + "/ took over " + REGEX_BUDGET_NANOS / 1_000_000 + " ms on this text (a pattern that backtracks badly?)");
            }
          };
        } catch (PatternSyntaxException e) {
          problem.accept("pattern", "is not a regular expression: " + e.getDescription());
          return null;
        }
      }
      case "length" -> {
        if (!c.has("min") && !c.has("max")) {
          problem.accept("min", "missing: give min, max or both");
          return null;
        }
        long min = c.path("min").asLong(0);
        long max = c.path("max").asLong(Long.MAX_VALUE);
        if (min > max) {
          problem.accept("max", "must not be below min");
        }
        boolean words = c.path("unit").asText("chars").equals("words");
        String unit = words ? "words" : "characters";
        return v -> {
          String text = Json.text(v).strip();
          long n = words ? (text.isEmpty() ? 0 : text.split("\\s+").length) : text.codePointCount(0, text.length());
          return n < min ? List.of(n + " " + unit + ", fewer than " + min)
              : n > max ? List.of(n + " " + unit + ", more than " + max) : List.of();
        };
      }
      case "json" -> {
        return v -> {
          if (v != null && !v.isTextual()) {
            return List.of();
          }
          try {
            Json.MAPPER.readTree(Json.text(v));
            return Json.text(v).isBlank() ? List.of("empty, not JSON") : List.of();
          } catch (Exception e) {
            return List.of("not JSON: " + e.getMessage().lines().findFirst().orElse(""));
          }
        };
      }
      case "json-schema" -> {
        if (!c.path("schema").isObject()) {
          problem.accept("schema", "missing: the JSON Schema");
          return null;
        }
        List<String> wrong = JsonSchemas.problemsOfSchema(c.get("schema"));
        if (!wrong.isEmpty()) {
          problem.accept("schema", "is not a JSON Schema: " + String.join("; ", wrong));
          return null;
        }
        JsonSchema schema = JsonSchemas.compile(c.get("schema"));
        return v -> {
          JsonNode value = v;
          if (v != null && v.isTextual()) {
            try {
              value = JsonSchemas.parseAnswer(v.asText());
            } catch (IllegalArgumentException e) {
              return List.of(e.getMessage());
            }
          }
          return JsonSchemas.validate(schema, value == null ? Json.NODES.nullNode() : value);
        };
      }
      case "sql" -> {
        String name = c.path("dialect").asText("ansi");
        DatabaseType dialect = dialect(name);
        FeatureConfiguration parsing = new FeatureConfiguration()
            .setValue(Feature.allowSquareBracketQuotation, name.equals("tsql"))
            .setValue(Feature.allowBackslashEscapeCharacter, name.equals("mysql") || name.equals("mariadb"));
        return v -> sql(Json.text(v), dialect, parsing);
      }
      case "python" -> {
        if (PythonSyntax.unavailable() != null) {
          problem.accept("validator", "python cannot run here: " + PythonSyntax.unavailable());
          return null;
        }
        return v -> PythonSyntax.errors(Json.text(v));
      }
      default -> {
        problem.accept("validator", "unknown validator `" + validator + "` (known: " + String.join(", ", NAMES) + ")");
        return null;
      }
    }
  }

  /** sqlite and bigquery are parsed as ANSI SQL: JSqlParser has no feature set of theirs. */
  private static DatabaseType dialect(String name) {
    return switch (name) {
      case "postgres" -> DatabaseType.POSTGRESQL;
      case "mysql" -> DatabaseType.MYSQL;
      case "mariadb" -> DatabaseType.MARIADB;
      case "tsql" -> DatabaseType.SQLSERVER;
      case "oracle" -> DatabaseType.ORACLE;
      case "h2" -> DatabaseType.H2;
      default -> DatabaseType.ANSI_SQL;
    };
  }

  static List<String> sql(String sql, DatabaseType dialect, FeatureConfiguration parsing) {
    if (sql.isBlank()) {
      return List.of("empty, not SQL");
    }
    List<String> out = new ArrayList<>();
    for (ValidationError e : new Validation(parsing, List.of(dialect), sql).validate()) {
      e.getErrors().forEach(x -> out.add(x.getMessage().lines().findFirst().orElse(x.getMessage())
          .replace("net.sf.jsqlparser.parser.ParseException: ", "")));
    }
    return out;
  }

}
