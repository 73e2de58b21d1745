package io.skein.coordinator.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Requests too malformed for the routes to see (a URI or header past its limit, a broken request
 * line) answered as {@code application/problem+json} like every other error, not Pekko's plain
 * text. Named by {@code pekko.http.server.parsing.error-handler}.
 */
public final class ProblemParsingErrorHandler extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    log.debug("refused a malformed request: {}", info.formatPretty());
    String detail = info.summary() == null || info.summary().isBlank() ? status.reason() : info.summary();
    return Problems.of(StatusCodes.get(status.intValue()), detail);
  }
}
