package io.skein.worker.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.SpecException;
import io.skein.protocol.spec.SpecParser;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

public class PipelinePlanTest {

  /** The example spec; other tests plan with it too. */
  public static final String EXAMPLE = """
      name: support-qa
      models:
        writer: {model: sim-small, temperature: 0.8}
        judge:  {model: sim-large, temperature: 0}
      steps:
        - name: question
          model: writer
          system: "You are a customer writing to support."
          prompt: "Write a question about {{ topic }}."
        - name: answer
          model: writer
          prompt: "{{ question }}"
        - name: tone
          model: judge
          prompt: "Rate the tone of: {{ question }}"
        - name: followup
          continue: answer
          prompt: "Can you give an example?"
      output:
        messages:
          - {role: user, content: "{{ question }}"}
          - {role: assistant, content: "{{ answer }}"}
      """;

  private static PipelinePlan compile(String spec, String... fields) {
    return PipelinePlan.compile(SpecParser.parse(spec), List.of(fields));
  }

  private static List<SpecError> errors(String spec, String... fields) {
    return assertThrows(SpecException.class, () -> compile(spec, fields)).errors();
  }

  @Test
  void theGraphComesFromTemplatesAndContinue() {
    PipelinePlan plan = compile(EXAMPLE, "topic");
    assertEquals(Set.of(), plan.step("question").dependsOn());
    assertEquals(Set.of("question"), plan.step("answer").dependsOn());
    assertEquals(Set.of("question"), plan.step("tone").dependsOn(), "tone does not wait for answer");
    assertEquals(Set.of("answer"), plan.step("followup").dependsOn());
    assertEquals("followup", plan.lastStep().name());
  }

  @Test
  void aContinuedStepUsesTheModelOfItsConversation() {
    PipelinePlan plan = compile(EXAMPLE, "topic");
    assertEquals("sim-small", plan.step("followup").model().model());
    PipelinePlan chained = compile(EXAMPLE.replace("output:", "  - {name: more, continue: followup, prompt: \"More?\"}\noutput:"), "topic");
    assertEquals("sim-small", chained.step("more").model().model());
  }

  @Test
  void anUnknownTemplateNameNamesTheStepAndFieldAndSuggests() {
    SpecError e = errors(EXAMPLE, "topik").get(0);
    assertEquals("steps[0] (question).prompt", e.path());
    assertTrue(e.message().contains("unknown name `topic`; did you mean `topik`?"), e.message());
    SpecError out = errors(EXAMPLE.replace("content: \"{{ answer }}\"", "content: \"{{ anser }}\""), "topic").get(0);
    assertEquals("output.messages[1].content", out.path());
  }

  @Test
  void indexAndDeclaredFieldsAreKnown() {
    compile(EXAMPLE.replace("{{ topic }}", "{{ topic }} #{{ index }}"), "topic");
    compile(EXAMPLE.replace("steps:", "input: {fields: [topic]}\nsteps:"));
  }

  @Test
  void aCycleIsAnErrorNamingIt() {
    String cycle = EXAMPLE.replace("\"Write a question about {{ topic }}.\"", "\"{{ tone }}\"");
    SpecError e = errors(cycle, "topic").get(0);
    assertTrue(e.message().contains("cycle"), e.message());
    assertTrue(e.message().contains("question -> tone -> question") || e.message().contains("tone -> question -> tone"), e.message());
    SpecError self = errors(EXAMPLE.replace("\"{{ question }}\"", "\"{{ answer }}\""), "topic").get(0);
    assertEquals("steps[1] (answer)", self.path());
    assertTrue(self.message().contains("its own output"), self.message());
  }

  @Test
  void templateSyntaxErrorsNameTheField() {
    SpecError e = errors(EXAMPLE.replace("{{ topic }}", "{{ topic "), "topic").get(0);
    assertEquals("steps[0] (question).prompt", e.path());
    assertTrue(e.message().startsWith("template syntax"), e.message());
  }
}
