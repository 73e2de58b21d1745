package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.skein.coordinator.http.ApiTokens;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code skein tokens new}: the entry it prints, pasted into a server's config, accepts the token it prints. */
class TokensCommandTest {

  private static String run(String... args) {
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, new CommandLine(new TokensCommand()).execute(args));
    } finally {
      System.setOut(out);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }

  @Test
  void thePrintedEntryAcceptsThePrintedToken() {
    String[] lines = run("new", "--name", "team \"a\"").strip().split("\n");
    assertTrue(lines[0].startsWith("token: "), lines[0]);
    String token = lines[0].substring("token: ".length()).strip();
    String entry = lines[lines.length - 1].strip();
    assertTrue(entry.startsWith("skein.http.auth.tokens += "), entry);
    var config = ConfigFactory.parseString("skein.http.auth { tokens = [], metrics-open = on }\n" + entry).resolve();
    ApiTokens tokens = ApiTokens.from(config.getConfig("skein.http.auth"), name -> null);
    assertEquals(Optional.of("team \"a\""), tokens.holder("Bearer " + token));
  }

  @Test
  void quietPrintsTheTokenAlone() {
    String out = run("new", "--quiet").strip();
    assertTrue(out.matches("sk-skein-[A-Za-z0-9_-]{43}"), out);
    assertTrue(ApiTokens.from(ConfigFactory.parseString("tokens = [], metrics-open = on"), name -> out).required());
  }
}
