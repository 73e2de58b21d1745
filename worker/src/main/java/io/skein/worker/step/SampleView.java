package io.skein.worker.step;

import com.fasterxml.jackson.databind.JsonNode;
import io.skein.protocol.ChatMessage;
import io.skein.protocol.CallId;
import io.skein.protocol.RecordProtocol.CallSucceeded;
import io.skein.protocol.RecordProtocol.ToolCalled;
import java.util.List;
import java.util.Map;

/** What a step's logic sees of its record, for one sample of the step: nothing it could change. */
public interface SampleView {

  String step();

  /** 0 to n - 1. */
  int sample();

  /** The record's position in the job's input. */
  long index();

  /** A seed for what this sample draws, stable for (spec seed, record index, step, sample). */
  long seed();

  /** What templates see: the record's fields, {@code index}, and every value known so far, as plain values. */
  Map<String, Object> context();

  /** The value of a finished step (null if skipped or unknown). */
  JsonNode value(String step);

  /** This sample's answered calls, in turn order. */
  List<CallSucceeded> answers();

  /** What the tool call {@code index} of the answer to {@code call} came to, or null while it has not run. */
  default ToolCalled toolResult(CallId call, int index) {
    return null;
  }

  /** The conversation that gave a finished model step its value (sample 0). */
  List<ChatMessage> conversationOf(String step);

  /** Validators that send this step back when its value fails them ({@code on_fail: regenerate}). */
  List<StepLogic> checks();
}
