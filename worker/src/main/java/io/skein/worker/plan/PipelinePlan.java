package io.skein.worker.plan;

import io.skein.protocol.spec.MessageTemplate;
import io.skein.protocol.spec.ModelSpec;
import io.skein.protocol.spec.PipelineSpec;
import io.skein.protocol.spec.ProcessorSpec;
import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepKinds;
import io.skein.worker.step.StepLogic;
import io.skein.worker.template.JsonTemplates;
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
 * A spec checked against the fields its records carry, each step compiled by its kind, with the
 * per-record step graph derived from template references, the names steps read and
 * {@code continue}. Every referenced name must be a step, a record field or {@code index}; the graph
 * must be acyclic. Immutable; shared by every record of a job.
 */
public final class PipelinePlan {

  /** The record's position in the input, always available to templates. */
  public static final String INDEX = "index";
  /** The spec's files, {@code {name: text}}, readable by templates as {@code files.<name>}. */
  public static final String FILES = "files";
  /** A staged job's setup row, readable by templates of every stage after it as {@code setup.<field>}. */
  public static final String SETUP = "setup";

  /**
   * One step with what it needs: the steps whose values it reads, its compiled logic, and the
   * validators that send it back when its value fails them.
   */
  public record Step(StepSpec spec, int position, Set<String> dependsOn, StepLogic logic, List<StepLogic> checks) {
    public String name() {
      return spec.name();
    }

    /** The model alias the step calls; null for steps that need no model. */
    public ModelSpec model() {
      return logic.model();
    }

    /** The value the step takes when skipped: its {@code skip_value}, or JSON null. */
    public com.fasterxml.jackson.databind.JsonNode skipValue() {
      com.fasterxml.jackson.databind.JsonNode v = spec.config().get("skip_value");
      return v == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : v;
    }
  }

  private final PipelineSpec spec;
  private final Map<String, Step> steps;
  private final Set<String> inputFields;
  private final boolean blockTemplates;

  private PipelinePlan(PipelineSpec spec, Map<String, Step> steps, Set<String> inputFields) {
    this.spec = spec;
    this.steps = steps;
    this.inputFields = inputFields;
    this.blockTemplates = blockTemplates(spec);
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

  /**
   * Whether any template of the spec has a block ({@code {% ... %}}: loops, sets, macros), whose
   * rendering can take up to its budget; records of such plans render off their actor's thread.
   * Plain holes and filters render in microseconds.
   */
  public boolean hasBlockTemplates() {
    return blockTemplates;
  }

  private static boolean blockTemplates(PipelineSpec spec) {
    boolean found = spec.steps().stream().anyMatch(st -> st.config() != null && st.config().toString().contains("{%"));
    if (spec.output() != null) {
      found |= String.valueOf(spec.output().fields()).contains("{%")
          || (spec.output().messages() != null && spec.output().messages().stream().anyMatch(m -> String.valueOf(m.content()).contains("{%")));
    }
    return found || (spec.processors() != null
        && spec.processors().stream().anyMatch(p -> p.template() != null && p.template().toString().contains("{%")));
  }

  /**
   * The top-level fields of this plan's output rows, as a later stage reads them: without
   * {@code output:}, the record's fields and every step not dropped (with its trace and reasoning
   * when asked for); with it, {@code id}, {@code messages} and its fields; less what processors drop.
   */
  public Set<String> columns() {
    Set<String> columns = new LinkedHashSet<>();
    columns.add("id");
    if (spec.output() == null) {
      inputFields.stream().filter(f -> !f.equals(FILES) && !f.equals(SETUP)).forEach(columns::add);
      for (Step s : steps.values()) {
        if (!s.spec().drop()) {
          columns.add(s.name());
          if (!"none".equals(s.spec().withTrace())) {
            columns.add(s.name() + "__trace");
          }
          if (s.spec().extractReasoning()) {
            columns.add(s.name() + "__reasoning_content");
          }
        }
      }
    } else {
      columns.add("messages");
      columns.addAll(spec.output().fields().keySet());
    }
    columns.removeAll(spec.dropped());
    return columns;
  }

  /** The step whose conversation is the default output messages: the last model step in the spec. */
  public Step lastStep() {
    Step last = null;
    for (Step s : steps.values()) {
      last = s.logic().local() ? last : s;
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
    if (!spec.files().isEmpty()) {
      inputFields.add(FILES);
    }
    Set<String> stepNames = new LinkedHashSet<>();
    spec.steps().forEach(s -> stepNames.add(s.name()));
    Map<String, StepLogic> logics = compileSteps(spec, errors);
    Map<String, Set<String>> deps = new LinkedHashMap<>();
    Map<String, List<StepLogic>> checks = new LinkedHashMap<>();
    for (StepSpec s : spec.steps()) {
      StepLogic logic = logics.get(s.name());
      if (logic != null) {
        deps.put(s.name(), dependsOn(s, logic, logics, stepNames, inputFields, errors));
        link(s, logic, logics, checks, errors);
      }
    }
    OutputChecks.check(spec, stepNames, inputFields, errors);
    if (spec.dedupe() != null && !stepNames.contains(spec.dedupe().field()) && !inputFields.contains(spec.dedupe().field())) {
      Set<String> known = new LinkedHashSet<>(stepNames);
      known.addAll(inputFields);
      errors.add(new SpecError("dedupe.field", "unknown name `" + spec.dedupe().field() + "`" + SpecParser.suggest(spec.dedupe().field(), known)
          + " (steps: " + stepNames + ", record fields: " + inputFields + ")"));
    }
    OutputChecks.processors(spec, stepNames, inputFields, errors);
    findCycle(deps).ifPresent(cycle -> errors.add(new SpecError(
        spec.step(cycle.get(0)).map(StepSpec::path).orElse("steps"),
        "steps form a cycle: " + String.join(" -> ", cycle))));
    if (!errors.isEmpty()) {
      throw new SpecException(errors);
    }
    Map<String, Step> steps = new LinkedHashMap<>();
    for (StepSpec s : spec.steps()) {
      steps.put(s.name(), new Step(s, s.position(), Set.copyOf(deps.get(s.name())), logics.get(s.name()),
          List.copyOf(checks.getOrDefault(s.name(), List.of()))));
    }
    return new PipelinePlan(spec, steps, Set.copyOf(inputFields));
  }

  /** Each step checked against its kind's schema, then compiled by its kind; steps that fail either are left out. */
  private static Map<String, StepLogic> compileSteps(PipelineSpec spec, List<SpecError> errors) {
    Problems problems = new Problems();
    SpecContext context = new SpecContext(spec);
    Map<String, StepLogic> logics = new LinkedHashMap<>();
    for (StepSpec s : spec.steps()) {
      StepKind kind = StepKinds.get(s.kind());
      if (kind == null) {
        Set<String> known = new TreeSet<>();
        StepKinds.all().forEach(k -> known.add(k.name()));
        problems.at(s, "kind", "unknown step kind `" + s.kind() + "`" + SpecParser.suggest(s.kind(), known)
            + " (known: " + String.join(", ", known) + ")");
      } else if (StepKinds.check(kind, s, problems)) {
        compile(kind, s, context, problems).ifPresent(logic -> logics.put(s.name(), logic));
      }
    }
    errors.addAll(problems.errors());
    return logics;
  }

  /** The steps {@code s} reads (its condition, templates and names, the conversation it continues); unknown names are errors. */
  /** A kind's logic for a step; a kind (a plugin's, say) that throws or gives none is a problem at the step, not a crash. */
  private static java.util.Optional<StepLogic> compile(StepKind kind, StepSpec s, SpecContext context, Problems problems) {
    int before = problems.size();
    try {
      StepLogic logic = kind.compile(s, context, problems);
      if (logic == null && problems.size() == before) {
        problems.at(s, "", "the " + kind.name() + " kind (" + kind.getClass().getName() + ") made nothing of this step");
      }
      return java.util.Optional.ofNullable(logic);
    } catch (RuntimeException e) {
      problems.at(s, "", "the " + kind.name() + " kind (" + kind.getClass().getName() + ") failed on this step: " + e);
      return java.util.Optional.empty();
    }
  }

  private static Set<String> dependsOn(StepSpec s, StepLogic logic, Map<String, StepLogic> logics, Set<String> stepNames,
      Set<String> inputFields, List<SpecError> errors) {
    String path = s.path();
    Set<String> dependsOn = new LinkedHashSet<>();
    if (s.when() != null) {
      refs("{{ " + s.when() + " }}", path + ".when", stepNames, inputFields, dependsOn, errors);
    }
    logic.templates().forEach((key, template) -> refs(template, path + "." + key, stepNames, inputFields, dependsOn, errors));
    logic.names().forEach((key, name) -> {
      if (stepNames.contains(name)) {
        dependsOn.add(name);
      } else if (!inputFields.contains(name) && !INDEX.equals(name)) {
        errors.add(new SpecError(path + "." + key, "unknown name `" + name + "`" + SpecParser.suggest(name, known(stepNames, inputFields))
            + " (steps: " + stepNames + ", record fields: " + inputFields + ", and index)"));
      }
    });
    if (logic.continues() != null) {
      dependsOn.add(logic.continues());
      StepLogic continued = logics.get(logic.continues());
      if (continued != null && continued.local()) {
        errors.add(new SpecError(path + ".continue", "step `" + logic.continues() + "` calls no model: there is no conversation to continue"));
      }
    }
    if (dependsOn.remove(s.name())) {
      errors.add(new SpecError(path, "step `" + s.name() + "` refers to its own output"));
    }
    logic.ownValueTemplates().forEach((key, template) -> refs(template, path + "." + key, stepNames, inputFields, dependsOn, errors));
    dependsOn.remove(s.name());
    return dependsOn;
  }

  /** A validator that regenerates becomes a check of its target; traces and reasoning need a model step. */
  private static void link(StepSpec s, StepLogic logic, Map<String, StepLogic> logics, Map<String, List<StepLogic>> checks,
      List<SpecError> errors) {
    if (logic.regenerates() != null) {
      StepLogic target = logics.get(logic.regenerates());
      if (target == null || target.local()) {
        errors.add(new SpecError(s.path() + ".on_fail", "regenerate needs a target step that calls a model; `" + logic.regenerates()
            + "` does not"));
      } else {
        checks.computeIfAbsent(logic.regenerates(), t -> new ArrayList<>()).add(logic);
      }
    }
    if (logic.local() && !"none".equals(s.withTrace())) {
      errors.add(new SpecError(s.path() + ".with_trace", "a " + s.kind() + " step calls no model: it has no messages to trace"));
    }
    if (logic.local() && s.extractReasoning()) {
      errors.add(new SpecError(s.path() + ".extract_reasoning", "a " + s.kind() + " step calls no model: it has no reasoning"));
    }
  }

  private static Set<String> known(Set<String> steps, Set<String> fields) {
    Set<String> known = new TreeSet<>(steps);
    known.addAll(fields);
    known.add(INDEX);
    return known;
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
        errors.add(new SpecError(path, "unknown name `" + name + "`" + SpecParser.suggest(name, known(steps, fields))
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

  /** Checks the output templates: they may read any step or field. */
  private static final class OutputChecks {
    static void check(PipelineSpec spec, Set<String> steps, Set<String> fields, List<SpecError> errors) {
      if (spec.output() == null) {
        return;
      }
      Set<String> ignored = new LinkedHashSet<>();
      List<MessageTemplate> messages = spec.output().messages();
      if (messages != null) {
        for (int m = 0; m < messages.size(); m++) {
          refs(messages.get(m).content(), "output.messages[" + m + "].content", steps, fields, ignored, errors);
        }
      }
      spec.output().fields().forEach((k, v) -> refs(v, "output.fields." + k, steps, fields, ignored, errors));
    }

    /** Dataset templates may read any step or field; a dropped field must be one the row has. */
    static void processors(PipelineSpec spec, Set<String> steps, Set<String> fields, List<SpecError> errors) {
      Set<String> ignored = new LinkedHashSet<>();
      Set<String> columns = new TreeSet<>(fields);
      columns.addAll(steps);
      spec.steps().forEach(s -> {
        columns.add(s.name() + "__trace");
        columns.add(s.name() + "__reasoning_content");
      });
      if (spec.output() != null) {
        columns.add("messages");
        columns.addAll(spec.output().fields().keySet());
      }
      for (int i = 0; i < spec.processors().size(); i++) {
        ProcessorSpec p = spec.processors().get(i);
        String path = "processors[" + i + "]";
        if (p.template() != null) {
          JsonTemplates.strings(p.template(), path + ".template", (at, t) -> refs(t, at, steps, fields, ignored, errors));
        }
        for (int d = 0; d < p.drop().size(); d++) {
          String field = p.drop().get(d);
          if (!columns.contains(field)) {
            errors.add(new SpecError(path + ".drop[" + d + "]", "the row has no field `" + field + "`" + SpecParser.suggest(field, columns)));
          }
        }
      }
    }
  }
}
