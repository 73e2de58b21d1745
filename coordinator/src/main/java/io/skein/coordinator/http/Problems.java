package io.skein.coordinator.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.protocol.spec.SpecError;
import java.util.List;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** HTTP errors as RFC 9457 {@code application/problem+json}, with a detail a person can act on. */
public final class Problems {

  public static final ContentType.WithFixedCharset PROBLEM_JSON =
      ContentTypes.create(MediaTypes.applicationWithFixedCharset("problem+json", HttpCharsets.UTF_8));

  private static final ObjectMapper JSON = new ObjectMapper();

  private Problems() {}

  public static HttpResponse of(StatusCode status, String detail) {
    return of(status, detail, List.of());
  }

  /** A problem listing every error in a spec or request, each with where and why. */
  public static HttpResponse of(StatusCode status, String detail, List<SpecError> errors) {
    ObjectNode body = JSON.createObjectNode();
    body.put("type", "about:blank");
    body.put("title", status.reason());
    body.put("status", status.intValue());
    body.put("detail", detail);
    if (!errors.isEmpty()) {
      ArrayNode list = body.putArray("errors");
      for (SpecError e : errors) {
        list.addObject().put("path", e.path()).put("message", e.message());
      }
    }
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(PROBLEM_JSON, body.toString()));
  }

  public static HttpResponse notFound(String what) {
    return of(StatusCodes.NOT_FOUND, what);
  }
}
