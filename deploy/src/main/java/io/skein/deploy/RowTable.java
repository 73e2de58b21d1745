package io.skein.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** Rows for a person at a terminal: one block per record, a field a line, long values cut to the width. */
final class RowTable {

  private RowTable() {}

  static String render(List<JsonNode> rows, int width) {
    StringBuilder out = new StringBuilder();
    for (JsonNode row : rows) {
      out.append("── record ").append(row.path("id").asText()).append(' ').append("─".repeat(Math.max(3, width - 12 - row.path("id").asText().length())))
          .append('\n');
      int keyWidth = 0;
      for (var it = row.fieldNames(); it.hasNext(); ) {
        keyWidth = Math.max(keyWidth, it.next().length());
      }
      int room = Math.max(20, width - keyWidth - 3);
      int kw = keyWidth;
      row.fields().forEachRemaining(e -> {
        String value = e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString();
        value = value.replace('\n', ' ');
        if (value.length() > room) {
          value = value.substring(0, room - 1) + "…";
        }
        out.append(String.format("%-" + kw + "s : %s%n", e.getKey(), value));
      });
    }
    return out.toString();
  }
}
