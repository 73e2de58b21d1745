package io.skein.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ApiTokensTest {

  private static final String CI = "ci-token-0123456789abcdef";
  private static final String FROM_SECRET = "secret-token-fedcba9876543210";

  private static Config auth(String tokens) {
    return ConfigFactory.parseString("tokens = " + tokens + "\nmetrics-open = on");
  }

  private static ApiTokens tokens(String hocon, String env) {
    return ApiTokens.from(auth(hocon), name -> name.equals("SKEIN_API_TOKENS") ? env : null);
  }

  @Test
  void noTokensMeansTheApiAsksNone() {
    ApiTokens none = tokens("[]", null);
    assertFalse(none.required());
    assertEquals(Optional.empty(), none.holder("Bearer " + CI));
  }

  @Test
  void aConfiguredHashAcceptsItsTokenOnly() {
    ApiTokens t = tokens("[{name = ci, sha256 = \"" + ApiTokens.sha256(CI) + "\"}]", null);
    assertTrue(t.required());
    assertEquals(Optional.of("ci"), t.holder("Bearer " + CI));
    assertEquals(Optional.of("ci"), t.holder("bearer " + CI + " "), "the scheme is case-insensitive (RFC 7235)");
    assertEquals(Optional.empty(), t.holder("Bearer " + CI + "x"));
    assertEquals(Optional.empty(), t.holder("Bearer " + ApiTokens.sha256(CI)), "the hash is not the token");
    assertEquals(Optional.empty(), t.holder(CI), "no scheme");
    assertEquals(Optional.empty(), t.holder("Basic " + CI));
    assertEquals(Optional.empty(), t.holder(null));
  }

  @Test
  void tokensFromTheEnvironmentAreNamedByPosition() {
    ApiTokens t = tokens("[{name = ci, sha256 = \"" + ApiTokens.sha256(CI) + "\"}]", " " + FROM_SECRET + " ," + CI + "-2");
    assertEquals(Optional.of("env-1"), t.holder("Bearer " + FROM_SECRET));
    assertEquals(Optional.of("env-2"), t.holder("Bearer " + CI + "-2"));
    assertEquals(Optional.of("ci"), t.holder("Bearer " + CI));
  }

  @Test
  void badEntriesAreRefusedSayingWhereWithoutPrintingTheToken() {
    var shortToken = assertThrows(IllegalArgumentException.class, () -> tokens("[]", FROM_SECRET + ",tooshort"));
    assertTrue(shortToken.getMessage().contains("SKEIN_API_TOKENS: token 2 is shorter than 16"), shortToken.getMessage());
    assertFalse(shortToken.getMessage().contains("tooshort"));
    var notHex = assertThrows(IllegalArgumentException.class, () -> tokens("[{name = ci, sha256 = \"" + CI + "\"}]", null));
    assertTrue(notHex.getMessage().startsWith("skein.http.auth.tokens[0].sha256: not a SHA-256"), notHex.getMessage());
    assertFalse(notHex.getMessage().contains(CI));
    var plain = assertThrows(IllegalArgumentException.class, () -> tokens("[{name = ci, token = \"" + CI + "\"}]", null));
    assertTrue(plain.getMessage().contains("give `name` and `sha256`"), plain.getMessage());
  }

  @Test
  void neitherTokensNorHashesArePrinted() {
    ApiTokens t = tokens("[{name = ci, sha256 = \"" + ApiTokens.sha256(CI) + "\"}]", FROM_SECRET);
    assertEquals("ApiTokens[ci, env-1]", t.toString());
  }

  @Test
  void newTokensAreLongRandomAndHashAsSha256() {
    String a = ApiTokens.newToken();
    assertTrue(a.length() >= 40 && a.startsWith("sk-skein-"), a);
    assertNotEquals(a, ApiTokens.newToken());
    assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiTokens.sha256("abc"));
    assertTrue(tokens("[]", a).holder("Bearer " + a).isPresent());
  }
}
