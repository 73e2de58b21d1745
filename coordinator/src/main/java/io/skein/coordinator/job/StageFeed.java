package io.skein.coordinator.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.FeedSpec;
import io.skein.coordinator.store.JobStore.InputRow;
import io.skein.coordinator.store.JobStore.LedgerRow;
import io.skein.coordinator.store.StageStore.Made;
import io.skein.worker.step.Json;
import io.skein.worker.template.TemplateException;
import io.skein.worker.template.Templates;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a stage makes its records of its source stage's rows, as a pure function: error rows make
 * none (and are counted), a {@code filter} that does not hold drops a row (one that cannot be
 * evaluated for a row makes that row an error row of the stage, saying why), and {@code explode} makes
 * one record per element of a list field, {@code <parent id>-<i>}, with the parent's fields (none
 * when the parent is the setup row, which every record reads as {@code setup.*} anyway), the
 * element as {@code as}, and {@code parent_id}. The same rows always make the same records, so
 * a stage that reads its source again after a crash numbers nothing differently.
 */
public final class StageFeed {

  private static final ObjectMapper JSON = new ObjectMapper();

  private StageFeed() {}

  /** The records {@code rows} (consecutive source rows, in index order) make; {@code extra}: values the filter may read (setup, files). */
  public static Made apply(FeedSpec spec, List<LedgerRow> rows, Map<String, ?> extra) {
    List<InputRow> out = new ArrayList<>();
    long filtered = 0;
    long failed = 0;
    long empty = 0;
    for (LedgerRow r : rows) {
      if (!r.ok()) {
        failed++;
        continue;
      }
      ObjectNode row = parse(r.row());
      if (spec.filter() != null) {
        try {
          if (!holds(spec.filter(), row, extra)) {
            filtered++;
            continue;
          }
        } catch (TemplateException e) {
          out.add(new InputRow(out.size(), row.toString(),
              "the stage's filter `" + spec.filter() + "` could not be evaluated for this row: " + e.getMessage()));
          continue;
        }
      }
      if (spec.explodePath() == null) {
        out.add(new InputRow(out.size(), row.toString(), null));
        continue;
      }
      JsonNode list = at(row, spec.explodePath());
      if (!list.isArray() || list.isEmpty()) {
        empty++;
        continue;
      }
      String parentId = row.path("id").asText();
      for (int i = 0; i < list.size(); i++) {
        ObjectNode child = spec.fromSetup() ? JSON.createObjectNode() : row.deepCopy();
        child.put("id", parentId + "-" + i);
        child.set(spec.explodeAs(), list.get(i));
        child.set("parent_id", row.path("id"));
        out.add(new InputRow(out.size(), child.toString(), null));
      }
    }
    return new Made(out, filtered, failed, empty);
  }

  /** The value at a dotted path of a row; missing if any step of the way is. */
  static JsonNode at(JsonNode row, String path) {
    JsonNode node = row;
    for (String segment : path.split("\\.")) {
      node = node.path(segment);
    }
    return node;
  }

  /** Whether a filter condition holds for a row; throws if it cannot be evaluated for it. */
  static boolean holds(String filter, ObjectNode row, Map<String, ?> extra) {
    Map<String, Object> context = Json.plainObject(row);
    context.putAll(extra);
    return "1".equals(Templates.get().render("{% if " + filter + " %}1{% endif %}", context));
  }

  private static ObjectNode parse(String json) {
    try {
      JsonNode node = JSON.readTree(json);
      return node instanceof ObjectNode o ? o : JSON.createObjectNode().set("value", node);
    } catch (Exception e) {
      throw new IllegalStateException("corrupt ledger row: " + e.getMessage(), e);
    }
  }
}
