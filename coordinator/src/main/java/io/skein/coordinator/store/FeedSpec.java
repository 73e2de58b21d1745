package io.skein.coordinator.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A stage's place, as its job row keeps it: its position among the stages, its source stage's job
 * id (null: it reads the spec's input), the setup stage's job id (null: none), and its explode and filter.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FeedSpec(int position, String source, String setup, String explodePath, String explodeAs, String filter) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Whether the stage's records arrive while it runs (from a source stage, or once its setup has ended). */
  public boolean streams() {
    return source != null || setup != null;
  }

  public boolean fromInput() {
    return source == null;
  }

  public boolean fromSetup() {
    return source != null && source.equals(setup);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static FeedSpec parse(String json) {
    try {
      return JSON.readValue(json, FeedSpec.class);
    } catch (Exception e) {
      throw new IllegalStateException("corrupt stage feed: " + json, e);
    }
  }
}
