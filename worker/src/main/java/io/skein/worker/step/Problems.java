package io.skein.worker.step;

import io.skein.protocol.spec.SpecError;
import io.skein.protocol.spec.StepSpec;
import java.util.ArrayList;
import java.util.List;

/** The problems found in a spec, each with its path; a step kind adds its own through {@link #at}. */
public final class Problems {

  private final List<SpecError> errors = new ArrayList<>();

  public void add(String path, String message) {
    errors.add(new SpecError(path, message));
  }

  /** A problem with {@code key} of {@code step} (a key path such as {@code values[2]}, or empty for the step). */
  public void at(StepSpec step, String key, String message) {
    add(key.isEmpty() ? step.path() : step.path() + "." + key, message);
  }

  public int size() {
    return errors.size();
  }

  public List<SpecError> errors() {
    return List.copyOf(errors);
  }
}
