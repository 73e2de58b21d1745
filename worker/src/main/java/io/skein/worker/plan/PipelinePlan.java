package io.skein.worker.plan;

import io.skein.protocol.spec.MessageTemplate;
import io.skein.protocol.spec.ModelSpec;
import io.skein.protocol.spec.PipelineSpec;
import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.template.TemplateException;
import io.skein.worker.template.TemplateRefs;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A spec checked against the fields its records carry, with the per-record step graph derived from
 * template references and {@code continue}. Every referenced name must be a step, a record field
 * or {@code index}; the graph must be acyclic. Immutable; shared by every record of a job.
 */
public final class PipelinePlan {

  /** The record's position in the input, always available to templates. */
  public static final String INDEX = "index";

  /** One step with what it needs: the steps whose outputs it reads, and its resolved model alias. */
  public record Step(StepSpec spec, int position, Set<String> dependsOn, ModelSpec model) {
    public String name() {
      return spec.name();
    }
  }

  private final PipelineSpec spec;
  private final Map<String, Step> steps;
  private final Set<String> inputFields;

  private PipelinePlan(PipelineSpec spec, Map<String, Step> steps, Set<String> inputFields) {
    this.spec = spec;
    this.steps = steps;
    this.inputFields = inputFields;
  }

  public PipelineSpec spec() {
    return spec;
  }

  /** Steps in spec order. */
  public Collection<Step> steps() {
    return steps.values();
  }

  public Step step(String name) {
    return steps.get(name);
  }

  public Set<String> inputFields() {
    return inputFields;
  }

  /** The step whose conversation is the default output: the last one in the spec. */
  public Step lastStep() {
    Step last = null;
    for (Step s : steps.values()) {
      last = s;
    }
    return last;
  }

  /**
   * Checks {@code spec} against {@code fields} (the union of the spec's declared input fields and
   * those of the records at hand) and builds the plan, or throws every problem found.
   */
  public static PipelinePlan compile(PipelineSpec spec, Collection<String> fields) {
    List<SpecError> errors = new ArrayList<>();
    Set<String> inputFields = new LinkedHashSet<>(spec.input().fields());
    inputFields.addAll(fields);
    Set<String> stepNames = new LinkedHashSet<>();
    spec.steps().forEach(s -> stepNames.add(s.name()));

    Map<String, Set<String>> deps = new LinkedHashMap<>();
    for (int i = 0; i < spec.steps().size(); i++) {
      StepSpec s = spec.steps().get(i);
      String path = "steps[" + i + "] (" + s.name() + ")";
      Set<String> dependsOn = new LinkedHashSet<>();
      refs(s.system(), path + ".system", stepNames, inputFields, dependsOn, errors);
      refs(s.prompt(), path + ".prompt", stepNames, inputFields, dependsOn, errors);
      if (s.messages() != null) {
        for (int m = 0; m < s.messages().size(); m++) {
          refs(s.messages().get(m).content(), path + ".messages[" + m + "].content", stepNames, inputFields, dependsOn, errors);
        }
      }
      if (s.continueFrom() != null) {
        dependsOn.add(s.continueFrom());
      }
      if (dependsOn.contains(s.name())) {
        errors.add(new SpecError(path, "step `" + s.name() + "` refers to its own output"));
        dependsOn.remove(s.name());
      }
      deps.put(s.name(), dependsOn);
    }
    OutputChecks.check(spec, stepNames, inputFields, errors);
    findCycle(deps).ifPresent(cycle -> errors.add(new SpecError(
        "steps[" + indexOf(spec, cycle.get(0)) + "] (" + cycle.get(0) + ")",
        "steps form a cycle: " + String.join(" -> ", cycle))));
    if (!errors.isEmpty()) {
      throw new SpecException(errors);
    }
    Map<String, Step> steps = new LinkedHashMap<>();
    for (int i = 0; i < spec.steps().size(); i++) {
      StepSpec s = spec.steps().get(i);
      steps.put(s.name(), new Step(s, i, Set.copyOf(deps.get(s.name())), spec.models().get(aliasOf(spec, s))));
    }
    return new PipelinePlan(spec, steps, Set.copyOf(inputFields));
  }

  /** A continued step uses the model of the conversation it continues unless it names one. */
  private static String aliasOf(PipelineSpec spec, StepSpec s) {
    StepSpec current = s;
    Set<String> seen = new LinkedHashSet<>();
    while (current.model() == null && current.continueFrom() != null && seen.add(current.name())) {
      current = spec.step(current.continueFrom()).orElseThrow();
    }
    return current.model();
  }

  static void refs(String template, String path, Set<String> steps, Set<String> fields, Set<String> dependsOn, List<SpecError> errors) {
    if (template == null) {
      return;
    }
    Set<String> names;
    try {
      names = TemplateRefs.references(template);
    } catch (TemplateException e) {
      errors.add(new SpecError(path, "template syntax: " + e.getMessage()));
      return;
    }
    for (String name : names) {
      if (steps.contains(name)) {
        dependsOn.add(name);
      } else if (!fields.contains(name) && !INDEX.equals(name)) {
        Set<String> known = new TreeSet<>(steps);
        known.addAll(fields);
        known.add(INDEX);
        errors.add(new SpecError(path, "unknown name `" + name + "`" + SpecParser.suggest(name, known)
            + " (steps: " + steps + ", record fields: " + fields + ", and index)"));
      }
    }
  }

  private static java.util.Optional<List<String>> findCycle(Map<String, Set<String>> deps) {
    Map<String, Integer> color = new LinkedHashMap<>();
    for (String start : deps.keySet()) {
      List<String> path = new ArrayList<>();
      List<String> cycle = visit(start, deps, color, path);
      if (cycle != null) {
        return java.util.Optional.of(cycle);
      }
    }
    return java.util.Optional.empty();
  }

  private static List<String> visit(String node, Map<String, Set<String>> deps, Map<String, Integer> color, List<String> path) {
    int c = color.getOrDefault(node, 0);
    if (c == 2) {
      return null;
    }
    if (c == 1) {
      List<String> cycle = new ArrayList<>(path.subList(path.indexOf(node), path.size()));
      cycle.add(node);
      return cycle;
    }
    color.put(node, 1);
    path.add(node);
    for (String dep : deps.getOrDefault(node, Set.of())) {
      List<String> cycle = visit(dep, deps, color, path);
      if (cycle != null) {
        return cycle;
      }
    }
    path.remove(path.size() - 1);
    color.put(node, 2);
    return null;
  }

  private static int indexOf(PipelineSpec spec, String step) {
    for (int i = 0; i < spec.steps().size(); i++) {
      if (spec.steps().get(i).name().equals(step)) {
        return i;
      }
    }
    return -1;
  }

  /** Checks the output templates: they may read any step or field. */
  private static final class OutputChecks {
    static void check(PipelineSpec spec, Set<String> steps, Set<String> fields, List<SpecError> errors) {
      Set<String> ignored = new LinkedHashSet<>();
      List<MessageTemplate> messages = spec.output().messages();
      if (messages != null) {
        for (int m = 0; m < messages.size(); m++) {
          refs(messages.get(m).content(), "output.messages[" + m + "].content", steps, fields, ignored, errors);
        }
      }
      spec.output().fields().forEach((k, v) -> refs(v, "output.fields." + k, steps, fields, ignored, errors));
    }
  }
}
