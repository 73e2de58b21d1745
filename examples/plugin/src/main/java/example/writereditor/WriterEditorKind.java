package example.writereditor;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.node.TextNode;
import io.skein.protocol.CallId;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.spec.ModelSpec;
import io.skein.protocol.spec.StepSpec;
import io.skein.worker.step.Outcome;
import io.skein.worker.step.Problems;
import io.skein.worker.step.SampleView;
import io.skein.worker.step.SpecContext;
import io.skein.worker.step.StepLogic;
import io.skein.worker.step.TypedStepKind;
import io.skein.worker.template.Templates;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code kind: writer_editor}: a writer drafts, an editor critiques, the writer revises, for
 * {@code rounds} rounds; the value is the last draft.
 *
 * <pre>
 * - name: story
 *   kind: writer_editor
 *   writer: big
 *   editor: small
 *   prompt: "A short story about {{ topic }}"
 *   rounds: 2
 * </pre>
 *
 * Every call goes through Skein's gateway as the built-in kinds' do (rate limits, retries, cache),
 * and each answer is an event: a record whose node dies between the critique and the revision
 * resumes at the revision.
 */
public final class WriterEditorKind extends TypedStepKind<WriterEditorKind.Params> {

  /** The step's keys; {@code rounds} is the key {@code rounds}, a component {@code maxWords} would be {@code max_words}. */
  public record Params(
      @JsonProperty(required = true) @JsonPropertyDescription("The model alias that drafts and revises.") String writer,
      @JsonPropertyDescription("The model alias that critiques (default: the writer).") String editor,
      @JsonProperty(required = true) @JsonPropertyDescription("What to write (a template).") String prompt,
      @JsonPropertyDescription("Rounds of critique and revision, 1 to 5 (default 1).") Integer rounds) {}

  static final String EDITOR = "You are an exacting editor. Name the three changes that would most improve the draft.";

  public WriterEditorKind() {
    super(Params.class);
  }

  @Override
  public String name() {
    return "writer_editor";
  }

  @Override
  public String description() {
    return "A writer drafts, an editor critiques, the writer revises (rounds times); the value is the last draft.";
  }

  @Override
  protected StepLogic compile(StepSpec step, Params params, SpecContext spec, Problems problems) {
    int rounds = params.rounds() == null ? 1 : params.rounds();
    if (rounds < 1 || rounds > 5) {
      problems.at(step, "rounds", "must be 1 to 5, not " + rounds);
    }
    ModelSpec writer = spec.model(params.writer(), step, "writer", problems);
    ModelSpec editor = params.editor() == null ? writer : spec.model(params.editor(), step, "editor", problems);
    return writer == null || editor == null ? null : new Logic(params.prompt(), writer, editor, rounds);
  }

  /** Turn 0 drafts; odd turns critique the draft before them; even turns revise it. */
  record Logic(String prompt, ModelSpec writer, ModelSpec editor, int rounds) implements StepLogic {

    @Override
    public Map<String, String> templates() {
      return Map.of("prompt", prompt);
    }

    @Override
    public boolean local() {
      return false;
    }

    @Override
    public ModelSpec model() {
      return writer;
    }

    @Override
    public Outcome next(SampleView view) {
      List<CallSucceeded> answers = view.answers();
      int turn = answers.size();
      if (turn == 1 + 2 * rounds) {
        return new Outcome.Value(TextNode.valueOf(answers.get(turn - 1).response()));
      }
      CallId id = new CallId(view.step(), view.sample(), turn);
      if (turn % 2 == 1) {
        List<ChatMessage> critique = List.of(ChatMessage.system(EDITOR),
            ChatMessage.user("The draft:\n\n" + answers.get(turn - 1).response()));
        return new Outcome.Calls(new Outcome.Call(id, editor, critique, critique, null));
      }
      ChatMessage ask = turn == 0
          ? ChatMessage.user(Templates.get().render(prompt, view.context()))
          : ChatMessage.user("An editor read your draft and says:\n\n" + answers.get(turn - 1).response()
              + "\n\nRevise the draft. Answer with the new draft only.");
      List<ChatMessage> messages = new ArrayList<>(writerSide(answers, turn));
      messages.add(ask);
      return new Outcome.Calls(new Outcome.Call(id, writer, List.of(ask), messages, null));
    }

    /** The writer's conversation before {@code turn}: its asks and drafts, without the editor's turns. */
    private static List<ChatMessage> writerSide(List<CallSucceeded> answers, int turn) {
      List<ChatMessage> messages = new ArrayList<>();
      for (int t = 0; t < turn && t < answers.size(); t += 2) {
        messages.addAll(answers.get(t).request());
        messages.add(ChatMessage.assistant(answers.get(t).response()));
      }
      return messages;
    }

    @Override
    public List<ChatMessage> sent(SampleView view, CallId call) {
      List<CallSucceeded> answers = view.answers();
      if (call.turn() >= answers.size()) {
        return List.of();
      }
      List<ChatMessage> messages = call.turn() % 2 == 1 ? new ArrayList<>() : new ArrayList<>(writerSide(answers, call.turn()));
      messages.addAll(answers.get(call.turn()).request());
      return messages;
    }

    @Override
    public List<ChatMessage> conversation(SampleView view) {
      return writerSide(view.answers(), view.answers().size());
    }
  }
}
