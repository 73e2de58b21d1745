package io.skein.coordinator.job;

import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.Stages;
import io.skein.protocol.spec.Stages.Stage;
import io.skein.protocol.spec.Stages.Staged;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.template.TemplateException;
import io.skein.worker.template.TemplateRefs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Each stage of a staged spec compiled against the fields its records will carry, before anything
 * runs: the first stage's are the input's; a later stage's are its source stage's output columns
 * (with the exploded element and {@code parent_id}); every stage after a setup reads {@code setup}.
 * An explode or filter that names a field the source rows lack is an error at submission, not a
 * stage that quietly gets no records.
 */
public final class StagePlans {

  /** A stage with its compiled plan and the fields its records carry. */
  public record Planned(Stage stage, PipelinePlan plan, Set<String> fields) {}

  private StagePlans() {}

  public static List<Planned> compile(Staged staged, Set<String> inputFields) {
    List<SpecError> errors = new ArrayList<>();
    Map<String, Planned> done = new LinkedHashMap<>();
    for (Stage stage : staged.stages()) {
      Set<String> fields = fields(staged, stage, inputFields, done, errors);
      if (fields == null) {
        continue;
      }
      try {
        done.put(stage.name(), new Planned(stage, PipelinePlan.compile(stage.spec(), fields), fields));
      } catch (SpecException e) {
        e.errors().forEach(err -> errors.add(Stages.repath(err, stage.feed().path())));
      }
    }
    if (!errors.isEmpty()) {
      throw new SpecException(errors);
    }
    return List.copyOf(done.values());
  }

  /** The fields a stage's records carry; null (with an error) when its source could not be planned or lacks what it reads. */
  private static Set<String> fields(Staged staged, Stage stage, Set<String> inputFields, Map<String, Planned> done, List<SpecError> errors) {
    Set<String> fields = new LinkedHashSet<>();
    Stages.Feed feed = stage.feed();
    if (feed.fromInput()) {
      fields.addAll(inputFields);
    } else {
      Planned source = done.get(feed.source());
      if (source == null) {
        return null; // its errors are reported already
      }
      Set<String> columns = source.plan().columns();
      if (feed.explode() != null) {
        String root = feed.explode().segments().get(0);
        if (!columns.contains(root)) {
          errors.add(new SpecError(feed.path() + ".explode", "the rows of stage `" + feed.source() + "` have no field `" + root + "`"
              + SpecParser.suggest(root, columns) + " (their fields: " + columns + ")"));
          return null;
        }
      }
      if (feed.filter() != null && !filterReads(feed, columns, staged.hasSetup(), errors)) {
        return null;
      }
      if (feed.explode() == null || !feed.source().equals(Stages.SETUP)) {
        fields.addAll(columns);
      }
      if (feed.explode() != null) {
        fields.add("id");
        fields.add(feed.explode().as());
        fields.add("parent_id");
      }
    }
    if (staged.hasSetup() && !stage.isSetup()) {
      fields.add(PipelinePlan.SETUP);
    }
    return fields;
  }

  private static boolean filterReads(Stages.Feed feed, Set<String> columns, boolean setup, List<SpecError> errors) {
    Set<String> names;
    try {
      names = TemplateRefs.references("{{ " + feed.filter() + " }}");
    } catch (TemplateException e) {
      errors.add(new SpecError(feed.path() + ".filter", "template syntax: " + e.getMessage()));
      return false;
    }
    Set<String> known = new LinkedHashSet<>(columns);
    if (setup) {
      known.add(PipelinePlan.SETUP);
    }
    known.add(PipelinePlan.FILES);
    for (String name : names) {
      if (!known.contains(name)) {
        errors.add(new SpecError(feed.path() + ".filter", "unknown name `" + name + "`" + SpecParser.suggest(name, known)
            + " (the rows of stage `" + feed.source() + "` have " + columns + ")"));
        return false;
      }
    }
    return true;
  }
}
