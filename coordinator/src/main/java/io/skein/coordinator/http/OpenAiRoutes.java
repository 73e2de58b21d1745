package io.skein.coordinator.http;

import static org.apache.pekko.http.javadsl.server.Directives.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.batch.BatchJson;
import io.skein.coordinator.batch.BatchStore;
import io.skein.coordinator.batch.Batches;
import io.skein.coordinator.batch.Batches.ApiError;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * OpenAI's Files and Batches APIs under {@code /v1}, for the official SDKs pointed at Skein by
 * {@code base_url}: {@code /v1/files} (upload, list, retrieve, content, delete) and
 * {@code /v1/batches} (create, retrieve, list, cancel). Errors are {@code application/problem+json}
 * that also carry OpenAI's {@code error} object, so the SDKs read their message, type and code.
 */
final class OpenAiRoutes {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long STRICT_TIMEOUT_MS = 60_000;

  private final Batches batches;
  private final BatchStore store;
  private final Materializer materializer;
  private final Executor blocking;
  private final long maxFileSize;
  private final int maxLine;

  OpenAiRoutes(Batches batches, Materializer materializer, Executor blocking, long maxFileSize, int maxLine) {
    this.maxLine = maxLine;
    this.batches = batches;
    this.store = batches.store();
    this.materializer = materializer;
    this.blocking = blocking;
    this.maxFileSize = maxFileSize;
  }

  /** The routes as {@code caller} sees them: what it makes is its tenant's, and only that (all, for an admin) is found. */
  Route route(Caller caller) {
    java.util.function.Predicate<String> sees = caller::sees;
    return pathPrefix("v1", () -> concat(
        pathPrefix("files", () -> concat(
            pathEnd(() -> concat(
                post(() -> withoutRequestTimeout(() -> extractRequest(r -> upload(r, caller)))),
                get(() -> parameterOptional("purpose", purpose -> page(10_000, (after, limit) -> parameterOptional("order",
                    order -> files(purpose.orElse(null), after, limit, order.orElse("desc"), caller))))))),
            pathPrefix(PathMatchers.segment(), id -> concat(
                pathEnd(() -> concat(get(() -> file(id, caller)), delete(() -> deleteFile(id, caller)))),
                path("content", () -> get(() -> content(id, sees))))))),
        pathPrefix("batches", () -> concat(
            pathEnd(() -> concat(
                post(() -> withoutRequestTimeout(() -> extractRequest(r -> create(r, caller)))),
                get(() -> page(100, (after, limit) -> respond(batches.list(after, limit, caller.only())))))),
            pathPrefix(PathMatchers.segment(), id -> concat(
                pathEnd(() -> get(() -> answer(batches.get(id, sees), id))),
                path("cancel", () -> post(() -> answer(batches.cancel(id, sees), id)))))))));
  }

  /** {@code after} and {@code limit} (1 to {@code most}, default 20) of a list: OpenAI's 100 for batches, 10,000 for files. */
  private Route page(int most, java.util.function.BiFunction<String, Integer, Route> inner) {
    return parameterOptional("after", after -> parameterOptional("limit", limit -> {
      int n;
      try {
        n = limit.map(Integer::parseInt).orElse(20);
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 1 || n > most) {
        return complete(error(new ApiError(400, "limit", "invalid_value", "limit must be a whole number from 1 to " + most + ", got `"
            + limit.orElse("") + "`")));
      }
      return inner.apply(after.orElse(null), n);
    }));
  }

  private Route upload(HttpRequest request, Caller caller) {
    return respond(FileUpload.read(request.entity(), store, materializer, blocking, maxFileSize, maxLine, caller.tenant())
        .thenApply(BatchJson::file));
  }

  private Route files(String purpose, String after, int limit, String order, Caller caller) {
    if (!order.equals("asc") && !order.equals("desc")) {
      return complete(error(new ApiError(400, "order", "invalid_value", "order must be asc or desc, got `" + order + "`")));
    }
    return respond(CompletableFuture.supplyAsync(() -> {
      List<BatchStore.FileInfo> found = store.files(purpose, after, limit + 1, order.equals("asc"), caller.only());
      return BatchJson.list(found.stream().limit(limit).map(BatchJson::file).toList(), found.size() > limit);
    }, blocking));
  }

  private Route file(String id, Caller caller) {
    return respond(CompletableFuture.supplyAsync(() -> BatchJson.file(store.file(id).filter(f -> caller.sees(f.tenant()))
        .orElseThrow(() -> new ApiError(404, null, null, "No such File object: " + id))), blocking));
  }

  private Route deleteFile(String id, Caller caller) {
    return respond(CompletableFuture.supplyAsync(() -> {
      if (store.file(id).filter(f -> caller.sees(f.tenant())).isEmpty() || !store.deleteFile(id)) {
        throw new ApiError(404, null, null, "No such File object: " + id);
      }
      return JSON.createObjectNode().put("id", id).put("object", "file").put("deleted", true);
    }, blocking));
  }

  /** A file's content as JSONL, streamed (an output file straight from the ledger). */
  private Route content(String id, java.util.function.Predicate<String> sees) {
    return completeWithFuture(batches.content(id, sees).thenApply(source -> source
        .map(lines -> HttpResponse.create().withEntity(HttpEntities.createChunked(ContentTypes.APPLICATION_OCTET_STREAM,
            lines.map(line -> ByteString.fromString(line + "\n")))))
        .orElseGet(() -> error(new ApiError(404, null, null, "No such File object: " + id))))
        .exceptionally(OpenAiRoutes::error));
  }

  private Route create(HttpRequest request, Caller caller) {
    CompletionStage<ObjectNode> created = request.entity().toStrict(STRICT_TIMEOUT_MS, 1 << 20, materializer).thenCompose(strict -> {
      JsonNode body;
      try {
        body = JSON.readTree(strict.getData().utf8String());
      } catch (Exception e) {
        throw new ApiError(400, null, "invalid_request", "the request body must be a JSON object: " + e.getMessage());
      }
      if (body == null || !body.isObject()) {
        throw new ApiError(400, null, "invalid_request", "the request body must be a JSON object");
      }
      return batches.create(body.path("input_file_id").asText(null), body.path("endpoint").asText(null),
          body.path("completion_window").asText(null), body.get("metadata"), caller.tenant(), caller::sees);
    });
    return respond(created);
  }

  private Route answer(CompletionStage<Optional<ObjectNode>> found, String id) {
    return respond(found.thenApply(b -> b.orElseThrow(() -> new ApiError(404, null, null, "No such Batch object: " + id))));
  }

  private Route respond(CompletionStage<? extends JsonNode> body) {
    return completeWithFuture(body.thenApply(b -> HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, b.toString()))).exceptionally(OpenAiRoutes::error));
  }

  /**
   * A failure as OpenAI's SDKs read it ({@code error: {message, type, param, code}}) inside an RFC
   * 9457 problem; one that is not the client's is the API's usual problem (a 500 saying what broke).
   */
  static HttpResponse error(Throwable failure) {
    Throwable e = failure;
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (!(e instanceof ApiError api)) {
      return JobRoutes.problem(e);
    }
    var status = StatusCodes.get(api.status);
    ObjectNode body = JSON.createObjectNode().put("type", "about:blank").put("title", status.reason()).put("status", api.status)
        .put("detail", api.getMessage());
    ObjectNode error = body.putObject("error").put("message", api.getMessage()).put("type", "invalid_request_error");
    if (api.param == null) {
      error.putNull("param");
    } else {
      error.put("param", api.param);
    }
    if (api.code == null) {
      error.putNull("code");
    } else {
      error.put("code", api.code);
    }
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(Problems.PROBLEM_JSON, body.toString()));
  }
}
