package io.skein.protocol.spec;

import java.util.List;
import java.util.stream.Collectors;

/** A pipeline spec that cannot run, with every problem found (not only the first). */
public final class SpecException extends RuntimeException {

  private final transient List<SpecError> errors;

  public SpecException(List<SpecError> errors) {
    super(errors.stream().map(SpecError::toString).collect(Collectors.joining("; ")));
    this.errors = List.copyOf(errors);
  }

  public SpecException(String path, String message) {
    this(List.of(new SpecError(path, message)));
  }

  public List<SpecError> errors() {
    return errors;
  }
}
