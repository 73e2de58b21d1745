package io.skein.protocol.importer;

/**
 * Something of a Data Designer config that did not carry over as it was: {@code where} is the
 * column's name (or {@code model_configs.<alias>}, {@code seed_config}, {@code constraints[i]}...),
 * {@code reason} what Skein does instead. {@code dropped}: the column (or part) is left out of the
 * spec altogether; otherwise it converted with the difference said.
 */
public record Gap(String where, String reason, boolean dropped) {

  static Gap dropped(String where, String reason) {
    return new Gap(where, reason, true);
  }

  static Gap differs(String where, String reason) {
    return new Gap(where, reason, false);
  }

  @Override
  public String toString() {
    return where + ": " + reason + (dropped ? " (left out)" : "");
  }
}
