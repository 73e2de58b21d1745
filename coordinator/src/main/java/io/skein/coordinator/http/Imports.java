package io.skein.coordinator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.skein.coordinator.job.JobService;
import io.skein.protocol.importer.DataDesignerImport;
import io.skein.protocol.importer.Gap;
import io.skein.protocol.spec.SpecException;
import java.util.List;

/**
 * A submission whose spec is a Data Designer config (found by its shape) becomes one of the Skein
 * spec it converts to; {@code num_records} (a query parameter) plays the part of Data Designer's
 * {@code create(num_records=...)}. What did not carry over goes back with the job's id.
 */
final class Imports {

  record Imported(JobService.Submission submission, List<Gap> gaps) {

    /** {@code [{where, reason, dropped}]}, or null when nothing was imported or everything carried over. */
    ArrayNode gapsJson() {
      if (gaps.isEmpty()) {
        return null;
      }
      ArrayNode out = JsonNodeFactory.instance.arrayNode();
      gaps.forEach(g -> out.addObject().put("where", g.where()).put("reason", g.reason()).put("dropped", g.dropped()));
      return out;
    }
  }

  private Imports() {}

  static Imported of(JobService.Submission s, String numRecords) {
    if (!DataDesignerImport.isConfig(s.spec())) {
      if (numRecords != null) {
        throw new SpecException("num_records", "is for Data Designer configs; a Skein spec says input.num_records");
      }
      return new Imported(s, List.of());
    }
    Integer n = null;
    if (numRecords != null) {
      try {
        n = Integer.parseInt(numRecords.strip());
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 1) {
        throw new SpecException("num_records", "must be a whole number of records, at least 1; got `" + numRecords + "`");
      }
    }
    var converted = DataDesignerImport.convert(s.spec(), "data-designer-import", n);
    return new Imported(new JobService.Submission(converted.spec(), s.inputs(), s.fields(), s.fingerprint(), null),
        converted.gaps());
  }
}
