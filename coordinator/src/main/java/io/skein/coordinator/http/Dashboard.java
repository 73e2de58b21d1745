package io.skein.coordinator.http;

import static org.apache.pekko.http.javadsl.server.Directives.*;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web dashboard: {@code /} is its page, {@code /ui/} its script and style, {@code /ui/lib/} the
 * plotting library (uPlot, from its WebJar on Maven Central) — all served from the jar, so it works
 * without internet access. Plain HTML and JavaScript over the same HTTP API as everything else; the
 * files themselves ask no token (they hold no data), the API calls they make do.
 */
final class Dashboard {

  private static final String FILES = "io/skein/dashboard";
  private static final String UPLOT = "META-INF/resources/webjars/uplot/" + webJarVersion("uplot") + "/dist";

  private Dashboard() {}

  static Route route() {
    return get(() -> concat(
        pathSingleSlash(() -> getFromResource(FILES + "/index.html", ContentTypes.TEXT_HTML_UTF8)),
        pathPrefix("ui", () -> concat(
            pathPrefix("lib", () -> getFromResourceDirectory(UPLOT)),
            getFromResourceDirectory(FILES)))));
  }

  /** The version of an npm WebJar on the class path, from its Maven metadata. */
  private static String webJarVersion(String name) {
    try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream("META-INF/maven/org.webjars.npm/" + name + "/pom.properties")) {
      Properties properties = new Properties();
      if (in != null) {
        properties.load(in);
      }
      return properties.getProperty("version", "missing");
    } catch (IOException e) {
      return "missing";
    }
  }
}
