package io.skein.coordinator.http;

import static org.apache.pekko.http.javadsl.server.Directives.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.skein.coordinator.store.TokenTable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;

/**
 * {@code /tokens}, for admin tokens only: {@code POST /tokens {name, tenant, admin}} makes a token
 * (answered once, stored as its hash), {@code GET /tokens} lists the holders, {@code DELETE
 * /tokens/{name}} revokes one (every node stops accepting it within {@link ApiTokens#CACHE_TTL}).
 */
final class TokenRoutes {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NAME = "[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}";

  private final ApiTokens tokens;
  private final Materializer materializer;
  private final Executor blocking;

  TokenRoutes(ApiTokens tokens, Materializer materializer, Executor blocking) {
    this.tokens = tokens;
    this.materializer = materializer;
    this.blocking = blocking;
  }

  Route route(Caller caller) {
    return pathPrefix("tokens", () -> {
      if (!tokens.required()) {
        return complete(Problems.of(StatusCodes.CONFLICT, "this server asks no tokens, so it keeps none: configure an admin token"
            + " first (skein.http.auth.tokens, or SKEIN_API_TOKENS), then make tenants' tokens with it"));
      }
      if (!caller.admin()) {
        return complete(Problems.of(StatusCodes.FORBIDDEN, "tokens are made and listed with an admin token"));
      }
      return concat(
          pathEnd(() -> concat(post(() -> extractRequest(r -> completeWithFuture(r.entity().toStrict(10_000, 64 * 1024, materializer)
              .thenApplyAsync(strict -> create(strict.getData().utf8String()), blocking).exceptionally(JobRoutes::problem)))),
              get(() -> completeWithFuture(CompletableFuture.supplyAsync(this::list, blocking))))),
          path(PathMatchers.segment(), name -> delete(() -> completeWithFuture(CompletableFuture.supplyAsync(() -> {
            if (!tokens.table().delete(name)) {
              return Problems.notFound("no token `" + name + "` (tokens from the config are removed from the config)");
            }
            tokens.forget();
            return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
          }, blocking)))));
    });
  }

  private HttpResponse create(String body) {
    JsonNode request;
    try {
      request = JSON.readTree(body);
    } catch (Exception e) {
      request = null;
    }
    if (request == null || !request.isObject() || !request.path("name").isTextual()) {
      return Problems.of(StatusCodes.BAD_REQUEST, "send {\"name\": \"alice\", \"tenant\": \"team-a\"} (or \"admin\": true instead of a tenant)");
    }
    String name = request.get("name").asText();
    String tenant = request.path("tenant").isTextual() ? request.get("tenant").asText() : null;
    boolean admin = request.path("admin").asBoolean(false);
    if (!name.matches(NAME) || tenant != null && !tenant.matches(NAME)) {
      return Problems.of(StatusCodes.BAD_REQUEST, "name and tenant are 1 to 100 letters, digits and _.@- (starting with a letter or digit)");
    }
    if (!admin && tenant == null) {
      return Problems.of(StatusCodes.BAD_REQUEST, "give the token a `tenant` (whose jobs, files and batches it sees), or \"admin\": true");
    }
    String token = ApiTokens.newToken();
    TokenTable.Entry entry = new TokenTable.Entry(name, tenant, admin, System.currentTimeMillis());
    if (!tokens.table().insert(ApiTokens.sha256(token), entry)) {
      return Problems.of(StatusCodes.CONFLICT, "a token named `" + name + "` exists: revoke it first (DELETE /tokens/" + name + ")");
    }
    ObjectNode out = describe(entry).put("token", token);
    return HttpResponse.create().withStatus(StatusCodes.CREATED).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, out.toString()));
  }

  private HttpResponse list() {
    ObjectNode out = JSON.createObjectNode();
    ArrayNode list = out.putArray("tokens");
    tokens.table().list().forEach(e -> list.add(describe(e)));
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, out.toString()));
  }

  private static ObjectNode describe(TokenTable.Entry e) {
    ObjectNode o = JSON.createObjectNode().put("name", e.name());
    if (e.tenant() == null) {
      o.putNull("tenant");
    } else {
      o.put("tenant", e.tenant());
    }
    return o.put("admin", e.admin()).put("created_at", java.time.Instant.ofEpochMilli(e.createdAt()).toString());
  }
}
