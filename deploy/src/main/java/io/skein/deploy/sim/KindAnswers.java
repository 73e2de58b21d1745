package io.skein.deploy.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the simulator answers what step kinds ask for: JSON that conforms to the request's
 * {@code response_format: json_schema} (or to a schema stated in the prompt), a fenced code block
 * when the prompt asks for one, a {@code <think>} block first when reasoning is on; and, for a
 * share of first answers, the mistakes real models make (broken JSON, code that does not parse),
 * so correction and regeneration loops run.
 */
final class KindAnswers {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern FENCE = Pattern.compile("```([A-Za-z0-9_+#-]+)");
  private static final String SCHEMA_IN_PROMPT = "conforms to this JSON Schema:\n";

  private KindAnswers() {}

  /** The answer to a structured or code request, or null for plain text. */
  static String answer(JsonNode req, String lastUser, SplittableRandom random, SimulatorSettings.Answers a, double draw, boolean first) {
    JsonNode schema = schema(req, lastUser);
    String think = a.reasoning() ? "<think>" + thought(lastUser) + "</think>\n" : "";
    if (schema != null) {
      return think + (first && draw < a.badJsonRate() ? SchemaAnswers.broken(schema, random) : SchemaAnswers.conforming(schema, random).toString());
    }
    Matcher fence = FENCE.matcher(lastUser);
    if (fence.find()) {
      String language = fence.group(1).toLowerCase(java.util.Locale.ROOT);
      boolean broken = first && draw < a.badCodeRate();
      return think + "Here it is:\n```" + language + "\n" + code(language, broken, random) + "\n```";
    }
    return null;
  }

  static String thought(String lastUser) {
    String topic = lastUser.replaceAll("\\s+", " ").strip();
    return "The request is: " + (topic.length() > 80 ? topic.substring(0, 80) : topic) + ". I should answer it directly and plainly.";
  }

  private static JsonNode schema(JsonNode req, String lastUser) {
    JsonNode format = req.path("response_format");
    if (format.path("type").asText().equals("json_schema")) {
      return format.path("json_schema").path("schema");
    }
    int at = lastUser.lastIndexOf(SCHEMA_IN_PROMPT);
    if (at >= 0) {
      try {
        return JSON.readTree(lastUser.substring(at + SCHEMA_IN_PROMPT.length()));
      } catch (Exception e) {
        return null;
      }
    }
    return null;
  }

  private static String code(String language, boolean broken, SplittableRandom random) {
    String[] tables = {"orders", "customers", "products", "invoices"};
    String table = tables[random.nextInt(tables.length)];
    return switch (language) {
      case "sql", "postgres", "postgresql", "mysql" -> broken
          ? "SELEC id, total FORM " + table + " WHERE"
          : "SELECT id, COUNT(*) AS n FROM " + table + " WHERE created_at >= '2024-01-01' GROUP BY id ORDER BY n DESC LIMIT "
              + (5 + random.nextInt(20)) + ";";
      case "python", "py" -> broken
          ? "def total(items)\n    return sum(items"
          : "def total(items):\n    \"\"\"Sum the " + table + ".\"\"\"\n    return sum(item.amount for item in items)\n";
      default -> broken ? "{{{" : "// " + table + "\nprint(\"" + table + "\")";
    };
  }
}
