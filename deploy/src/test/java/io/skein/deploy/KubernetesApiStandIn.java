package io.skein.deploy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A stand-in Kubernetes API server for nodes that find each other through it: the fabric8 mock
 * server over HTTPS, storing pods as the real API does and listing them by label, with a CA file
 * and a service-account token for the nodes' discovery to read.
 */
final class KubernetesApiStandIn implements AutoCloseable {

  static final String NAMESPACE = "skein-test";

  final KubernetesMockServer server;
  final KubernetesClient client;
  private final Path token;

  /** The mock server's store, answering with the content type the real API server sends (and Pekko's discovery requires). */
  private static final class JsonCrudDispatcher extends KubernetesCrudDispatcher {
    JsonCrudDispatcher() {
      super(List.of());
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      MockResponse response = super.dispatch(request);
      return response.header("Content-Type") == null ? response.setHeader("Content-Type", "application/json") : response;
    }
  }

  KubernetesApiStandIn(Path dir) throws Exception {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new JsonCrudDispatcher(), true);
    server.init(InetAddress.getByName("127.0.0.1"), 0);
    client = server.createClient();
    token = dir.resolve("token");
    Files.writeString(token, "test-token");
  }

  /** HOCON that points a node's kubernetes-api discovery at this server instead of the pod's service-account files. */
  String discoveryConfig() {
    return """
        pekko.discovery.kubernetes-api {
          api-ca-path = "%s"
          api-token-path = "%s"
          pod-namespace = "%s"
        }
        """.formatted(server.getSelfSignedCertificate().certificatePath(), token, NAMESPACE);
  }

  /** The env a pod gets from Kubernetes for reaching the API server. */
  Map<String, String> env() {
    return Map.of("KUBERNETES_SERVICE_HOST", server.getHostName(), "KUBERNETES_SERVICE_PORT", String.valueOf(server.getPort()));
  }

  /** Lists a pod of the Deployment as the API would: its label, the container's `management` port, its phase and IP. */
  void addPod(String name, String phase, int managementPort) {
    Pod pod = new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(NAMESPACE).addToLabels("app", "skein").endMetadata()
        .withNewSpec().addNewContainer().withName("skein").withImage("skein:test")
        .addNewPort().withName("management").withContainerPort(managementPort).endPort()
        .endContainer().endSpec()
        .withNewStatus().withPhase(phase).withPodIP("127.0.0.1").endStatus()
        .build();
    client.pods().inNamespace(NAMESPACE).resource(pod).create();
  }

  void removePod(String name) {
    client.pods().inNamespace(NAMESPACE).withName(name).delete();
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
