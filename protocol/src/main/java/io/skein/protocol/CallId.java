package io.skein.protocol;

/**
 * Identity of one call within a record: the step that makes it, the sample (for fan-out) and the
 * turn (for steps that make several calls: corrections, tool rounds). Together with the record key
 * it names a call across crashes, so its answer is stored once and never asked for again.
 */
public record CallId(String step, int sample, int turn) implements CborSerializable {

  public static CallId of(String step) {
    return new CallId(step, 0, 0);
  }

  @Override
  public String toString() {
    return step + "#" + sample + "." + turn;
  }
}
