package io.skein.worker.step.kinds;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Json;
import io.skein.worker.step.ModelConfig;
import io.skein.worker.step.ModelStep;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepKind;
import io.skein.worker.step.StepLogic;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code kind: llm-code}: a model writes code in {@code language}; the value is the code of the
 * answer's fenced block (the one tagged with the language if there are several), or the whole
 * answer when it has none.
 */
public final class CodeKind implements StepKind {

  private static final Pattern FENCE = Pattern.compile("(?s)```([A-Za-z0-9_+#-]*)[^\\n]*\\n(.*?)(?:```|\\z)");

  @Override
  public String name() {
    return "llm-code";
  }

  @Override
  public String description() {
    return "Ask a model for code in a language; the value is the code of its answer's fenced block.";
  }

  @Override
  public ObjectNode schema() {
    return Json.object("{\"required\": [\"language\"], \"properties\": {" + ModelConfig.PROPERTIES + """
        , "language": {"type": "string", "description": "python, sql, java, javascript, bash, ... (also the fence tag asked for)."}
        }}""");
  }

  @Override
  public StepLogic compile(StepSpec step, SpecContext spec, Problems problems) {
    return new Logic(step, ModelConfig.read(step, spec, problems, 0, 2), step.text("language").toLowerCase(Locale.ROOT));
  }

  /** The code in an answer: the fenced block tagged {@code language}, else the first fenced block, else the whole answer. */
  static String extract(String answer, String language) {
    Matcher m = FENCE.matcher(answer);
    String first = null;
    while (m.find()) {
      String code = m.group(2).stripTrailing();
      if (m.group(1).equalsIgnoreCase(language)) {
        return code;
      }
      first = first == null ? code : first;
    }
    return first != null ? first : answer.strip();
  }

  static final class Logic extends ModelStep {
    private final String language;

    Logic(StepSpec step, ModelConfig config, String language) {
      super(step, config);
      this.language = language;
    }

    @Override
    protected String instructions() {
      return "Answer with the " + language + " code in one fenced code block (```" + language + ").";
    }

    @Override
    protected Read read(String answer) {
      return Read.ok(Json.NODES.textNode(extract(answer, language)));
    }

    @Override
    protected String correction(java.util.List<String> errors) {
      return "Your code is not valid:\n- " + String.join("\n- ", errors) + "\nAnswer again with the corrected " + language
          + " code in one fenced code block (```" + language + ").";
    }
  }
}
