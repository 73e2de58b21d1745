package io.skein.protocol.spec;

/** One problem in a pipeline spec: where it is (a path such as {@code steps[2].prompt}) and why. */
public record SpecError(String path, String message) {

  @Override
  public String toString() {
    return path.isEmpty() ? message : path + ": " + message;
  }
}
