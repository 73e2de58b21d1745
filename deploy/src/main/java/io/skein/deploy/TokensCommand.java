package io.skein.deploy;

import io.skein.coordinator.http.ApiTokens;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code skein tokens new}: a new API token, and the entry for {@code skein.http.auth.tokens} that
 * lets a server accept it (its SHA-256: the server keeps no token itself). {@code skein tokens
 * create|list|revoke}: tokens a running cluster keeps in its database, made with an admin token.
 */
@Command(name = "tokens", mixinStandardHelpOptions = true, description = "Make API tokens for the HTTP API.",
    subcommands = {TokensCommand.NewToken.class, TokensCommand.Create.class, TokensCommand.ListTokens.class, TokensCommand.Revoke.class})
final class TokensCommand extends ParentCommand {


  @Command(name = "new", mixinStandardHelpOptions = true,
      description = "Print a new random token, and the skein.http.auth.tokens entry that accepts it.")
  static final class NewToken implements Callable<Integer> {
    @Option(names = "--name", defaultValue = "api", description = "Whose token it is, as the server's log names it (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--quiet", description = "Print the token alone (for a script or a Kubernetes Secret).")
    boolean quiet;

    @Override
    public Integer call() {
      String token = ApiTokens.newToken();
      if (quiet) {
        System.out.println(token);
        return 0;
      }
      System.out.println("token: " + token);
      System.out.println("give it to the client (SKEIN_TOKEN, or Authorization: Bearer ...), and this to the server's config:");
      System.out.println("  skein.http.auth.tokens += { name = " + com.typesafe.config.ConfigUtil.quoteString(name) + ", sha256 = \"" + ApiTokens.sha256(token) + "\" }");
      return 0;
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Make a token on a running cluster (with an admin token): one tenant's, or another admin's. Prints it once.")
  static final class Create implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    RemoteServer remote;

    @Option(names = "--name", required = true, description = "Whose token it is (unique; the log and `tokens list` name it).")
    String name;

    @Option(names = "--tenant", description = "The tenant whose jobs, files and batches the token sees and owns.")
    String tenant;

    @Option(names = "--admin", description = "An admin's token: it sees everything and may make tokens.")
    boolean admin;

    @Override
    public Integer call() throws Exception {
      if (remote.missing("tokens create")) {
        return 2;
      }
      if (tenant == null && !admin) {
        System.err.println("skein tokens create: give --tenant NAME (or --admin)");
        return 2;
      }
      var body = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("name", name).put("admin", admin);
      if (tenant != null) {
        body.put("tenant", tenant);
      }
      try {
        var made = remote.send(remote.request("/tokens").header("Content-Type", "application/json")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.toString())).build());
        System.out.println(made.get("token").asText());
        System.err.println("token `" + name + "` made" + (tenant == null ? " (admin)" : " for tenant " + tenant)
            + ": it is shown this once; the server keeps its hash");
        return 0;
      } catch (RemoteServer.Refused refused) {
        System.err.println("skein tokens create: " + remote.server + " answered " + refused.status + ": " + refused.getMessage());
        return 1;
      }
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the tokens a running cluster keeps (names and tenants, never tokens).")
  static final class ListTokens implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    RemoteServer remote;

    @Override
    public Integer call() throws Exception {
      if (remote.missing("tokens list")) {
        return 2;
      }
      try {
        for (var t : remote.json("GET", "/tokens").get("tokens")) {
          System.out.printf("%-24s %-16s %s%n", t.get("name").asText(), t.get("admin").asBoolean() ? "admin" : t.get("tenant").asText(),
              t.get("created_at").asText());
        }
        return 0;
      } catch (RemoteServer.Refused refused) {
        System.err.println("skein tokens list: " + remote.server + " answered " + refused.status + ": " + refused.getMessage());
        return 1;
      }
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token a running cluster keeps (every node refuses it within seconds).")
  static final class Revoke implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    RemoteServer remote;

    @picocli.CommandLine.Parameters(paramLabel = "NAME", description = "The token's name.")
    String name;

    @Override
    public Integer call() throws Exception {
      if (remote.missing("tokens revoke")) {
        return 2;
      }
      try {
        remote.json("DELETE", "/tokens/" + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8));
        System.err.println("token `" + name + "` revoked");
        return 0;
      } catch (RemoteServer.Refused refused) {
        System.err.println("skein tokens revoke: " + remote.server + " answered " + refused.status + ": " + refused.getMessage());
        return 1;
      }
    }
  }
}
