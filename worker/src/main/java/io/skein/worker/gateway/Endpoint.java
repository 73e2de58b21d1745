package io.skein.worker.gateway;

/**
 * One server behind a model name: its {@code name} (in call events and metrics), where calls go and
 * its own limits ({@code target}: a provider of one server), and its share of the traffic
 * ({@code weight}), which the gateway lowers while it fails or answers slowly.
 */
public record Endpoint(String name, Provider target, double weight) {

  public Endpoint {
    if (!(weight > 0)) {
      throw new IllegalArgumentException("endpoint " + name + ": weight must be above 0, not " + weight);
    }
  }

  /** {@code host:port} of a base URL: an endpoint's name when its config gives none. */
  public static String nameOf(String baseUrl) {
    java.net.URI uri = java.net.URI.create(baseUrl);
    int port = uri.getPort() >= 0 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
    return uri.getHost() + ":" + port;
  }
}
