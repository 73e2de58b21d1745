package io.skein.deploy;

import io.skein.coordinator.http.ApiTokens;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code skein tokens new}: a new API token, and the entry for {@code skein.http.auth.tokens} that
 * lets a server accept it (its SHA-256: the server keeps no token itself).
 */
@Command(name = "tokens", mixinStandardHelpOptions = true, description = "Make API tokens for the HTTP API.",
    subcommands = TokensCommand.NewToken.class)
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
}
