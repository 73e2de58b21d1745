package io.skein.deploy;

import io.skein.coordinator.job.JobService;
import io.skein.protocol.spec.SpecException;
import io.skein.worker.plan.PipelinePlan;
import io.skein.worker.template.TemplateRefs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code skein validate SPEC}: checks a spec (against its input's fields when it names a file) as
 * a submission would, and prints its step graph as text or as a Mermaid flowchart.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Check a spec and print its step graph (exit 2 with every problem if it cannot run).")
final class ValidateCommand implements Callable<Integer> {

  enum Format { text, mermaid }

  @Parameters(index = "0", paramLabel = "SPEC", description = "The pipeline spec (YAML or JSON).")
  Path specFile;

  @Option(names = "--input", description = "Records as JSONL (default: the spec's input), whose fields templates may read.")
  Path input;

  @Option(names = "--format", defaultValue = "text", description = "text or mermaid (default: ${DEFAULT-VALUE}).")
  Format format;

  @Override
  public Integer call() throws Exception {
    List<io.skein.coordinator.job.StagePlans.Planned> plans;
    try {
      plans = plans(specFile, input);
    } catch (IOException e) {
      System.err.println("skein validate: " + e.getMessage());
      return 2;
    } catch (SpecException e) {
      return SpecFile.report(specFile, e);
    }
    for (var p : plans) {
      if (plans.size() > 1) {
        var feed = p.stage().feed();
        System.out.printf("stage %s (%s%s%s):%n", p.stage().name(), p.stage().isSetup() ? "runs once, first" : feed.fromInput() ? "reads the input" : "reads the rows of " + feed.source(),
            feed.explode() == null ? "" : ", one record per element of " + feed.explode().path() + " as " + feed.explode().as(),
            feed.filter() == null ? "" : ", kept when " + feed.filter());
      }
      System.out.print(format == Format.mermaid ? mermaid(p.plan()) : text(p.plan()));
    }
    return 0;
  }

  /** The plan of each stage of a spec file (one, for a spec of one stage), checked against the fields of every record of its input. */
  static List<io.skein.coordinator.job.StagePlans.Planned> plans(Path specFile, Path input) throws IOException {
    SpecFile file = SpecFile.read(specFile);
    Path inputFile = file.inputFile(input);
    JobService.Submission submission = file.submission(inputFile, null, null);
    if (submission.inputs() != null) {
      submission.inputs().forEachRemaining(row -> { });
    }
    if (file.staged != null) {
      return io.skein.coordinator.job.StagePlans.compile(file.staged, submission.fields());
    }
    return List.of(new io.skein.coordinator.job.StagePlans.Planned(null, PipelinePlan.compile(file.spec, submission.fields()),
        submission.fields()));
  }

  static String text(PipelinePlan plan) {
    StringBuilder out = new StringBuilder();
    out.append(plan.spec().name()).append(": ").append(plan.steps().size()).append(" steps\n");
    int width = plan.steps().stream().mapToInt(s -> s.name().length()).max().orElse(4);
    for (PipelinePlan.Step s : plan.steps()) {
      out.append(String.format("  %-" + width + "s  %-15s", s.name(), s.spec().kind()));
      if (s.model() != null) {
        out.append(" model ").append(s.model().alias());
      }
      Set<String> fields = fieldsRead(plan, s);
      if (!fields.isEmpty()) {
        out.append("  reads ").append(String.join(", ", fields));
      }
      if (!s.dependsOn().isEmpty()) {
        out.append("  after ").append(String.join(", ", s.dependsOn()));
      }
      if (s.spec().when() != null) {
        out.append("  when ").append(s.spec().when());
      }
      if (s.spec().n() > 1) {
        out.append("  n=").append(s.spec().n());
      }
      if (s.spec().drop()) {
        out.append("  (dropped)");
      }
      out.append('\n');
    }
    List<List<String>> rounds = rounds(plan);
    out.append("Runs in ").append(rounds.size()).append(rounds.size() == 1 ? " round: " : " rounds: ");
    out.append(String.join(" -> ", rounds.stream().map(Object::toString).toList())).append('\n');
    return out.toString();
  }

  static String mermaid(PipelinePlan plan) {
    StringBuilder out = new StringBuilder("flowchart TD\n");
    Set<String> fields = new LinkedHashSet<>();
    plan.steps().forEach(s -> fields.addAll(fieldsRead(plan, s)));
    for (String f : fields) {
      out.append("  in_").append(f).append("[/\"").append(f).append("\"/]\n");
    }
    for (PipelinePlan.Step s : plan.steps()) {
      out.append("  ").append(s.name()).append("[\"").append(s.name()).append("<br/>").append(s.spec().kind())
          .append(s.model() == null ? "" : " · " + s.model().alias()).append("\"]\n");
    }
    for (PipelinePlan.Step s : plan.steps()) {
      for (String f : fieldsRead(plan, s)) {
        out.append("  in_").append(f).append(" --> ").append(s.name()).append('\n');
      }
      for (String d : s.dependsOn()) {
        boolean continues = d.equals(s.logic().continues());
        out.append("  ").append(d).append(continues ? " -. continues .-> " : " --> ").append(s.name()).append('\n');
      }
    }
    return out.toString();
  }

  private static Set<String> fieldsRead(PipelinePlan plan, PipelinePlan.Step s) {
    Set<String> names = new LinkedHashSet<>(s.logic().names().values());
    s.logic().templates().values().forEach(t -> names.addAll(TemplateRefs.references(t)));
    if (s.spec().when() != null) {
      names.addAll(TemplateRefs.references("{{ " + s.spec().when() + " }}"));
    }
    names.retainAll(plan.inputFields());
    return names;
  }

  /** Steps grouped by when they can first run: each round needs only the rounds before it. */
  private static List<List<String>> rounds(PipelinePlan plan) {
    List<List<String>> rounds = new ArrayList<>();
    Set<String> done = new LinkedHashSet<>();
    while (done.size() < plan.steps().size()) {
      List<String> round = new ArrayList<>();
      for (PipelinePlan.Step s : plan.steps()) {
        if (!done.contains(s.name()) && done.containsAll(s.dependsOn())) {
          round.add(s.name());
        }
      }
      done.addAll(round);
      rounds.add(round);
    }
    return rounds;
  }
}
