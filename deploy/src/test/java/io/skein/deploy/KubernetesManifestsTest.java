package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.openshift.api.model.monitoring.v1.Endpoint;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes as kustomize renders it ({@code kubectl kustomize}): every object parses as a
 * Kubernetes object of the fabric8 model with no field the model does not know, and the objects
 * agree with each other and with the node's config — ports, probes, labels and selectors,
 * ConfigMap and Secret references, the config file the node reads.
 */
class KubernetesManifestsTest {

  private static final Path ROOT = Path.of(System.getProperty("user.dir")).resolve("kubernetes");
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  @BeforeAll
  static void kustomize() throws Exception {
    String version;
    try {
      Process p = new ProcessBuilder("kubectl", "version", "--client").redirectErrorStream(true).start();
      version = new String(p.getInputStream().readAllBytes());
      p.waitFor(30, TimeUnit.SECONDS);
    } catch (java.io.IOException e) {
      version = "";
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("Kustomize Version: v(\\d+)").matcher(version);
    Assumptions.assumeTrue(m.find() && Integer.parseInt(m.group(1)) >= 4,
        "skipped: these manifests need `kubectl kustomize` with kustomize 4 or later (kubectl 1.21+), found: "
            + (version.isBlank() ? "no kubectl" : version.strip()));
  }

  /** The overlay as kustomize renders it. */
  static String render(String overlay) {
    try {
      Process p = new ProcessBuilder("kubectl", "kustomize", ROOT.resolve(overlay).toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError("kubectl kustomize " + overlay + " failed:\n" + out);
      }
      return out;
    } catch (java.io.IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<HasMetadata> objects(String overlay) {
    List<HasMetadata> out = new ArrayList<>();
    for (String doc : render(overlay).split("(?m)^---$")) {
      if (!doc.isBlank()) {
        HasMetadata o = SERIALIZATION.unmarshal(doc, HasMetadata.class);
        assertTrue(modelled(o),
            overlay + ": " + o.getKind() + " is not a Kubernetes object the model knows: " + o.getClass());
        assertNoUnknownFields(o, overlay + ": " + o.getKind() + "/" + o.getMetadata().getName());
        out.add(o);
      }
    }
    return out;
  }

  /** Kubernetes' own kinds, and the Prometheus Operator's. */
  private static boolean modelled(Object o) {
    String p = o.getClass().getPackageName();
    return p.startsWith("io.fabric8.kubernetes.api.model") || p.startsWith("io.fabric8.openshift.api.model.monitoring");
  }

  /** Strict: the model keeps fields it does not know in additionalProperties; there must be none, at any depth. */
  private static void assertNoUnknownFields(Object o, String where) {
    if (o == null || o instanceof String || o instanceof Number || o instanceof Boolean || o instanceof Enum<?>) {
      return;
    }
    if (o instanceof Collection<?> c) {
      c.forEach(e -> assertNoUnknownFields(e, where));
      return;
    }
    if (o instanceof Map<?, ?> m) {
      m.values().forEach(v -> assertNoUnknownFields(v, where));
      return;
    }
    if (!modelled(o)) {
      return;
    }
    for (Method m : o.getClass().getMethods()) {
      if (m.getParameterCount() != 0 || !m.getName().startsWith("get") || m.getDeclaringClass() == Object.class) {
        continue;
      }
      try {
        Object value = m.invoke(o);
        if (m.getName().equals("getAdditionalProperties")) {
          assertTrue(value == null || ((Map<?, ?>) value).isEmpty(), where + ": unknown fields " + value + " in " + o.getClass().getSimpleName());
        } else {
          assertNoUnknownFields(value, where + "." + m.getName().substring(3));
        }
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(where + ": " + m, e);
      }
    }
  }

  private static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> kind) {
    return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> kind, String name) {
    return all(objects, kind).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind.getSimpleName() + " " + name));
  }

  private static int port(Container c, String name) {
    return c.getPorts().stream().filter(p -> name.equals(p.getName())).mapToInt(ContainerPort::getContainerPort).findFirst()
        .orElseThrow(() -> new AssertionError("container " + c.getName() + " has no port named " + name));
  }

  private static String arg(List<String> args, String flag) {
    int i = args.indexOf(flag);
    assertTrue(i >= 0 && i + 1 < args.size(), "args give " + flag + ": " + args);
    return args.get(i + 1);
  }

  @Test
  void everyOverlayParsesStrictly() {
    for (String overlay : List.of("base", "overlays/local", "overlays/production")) {
      assertTrue(objects(overlay).size() >= 6, overlay);
    }
  }

  @Test
  void theNodesPortsProbesConfigAndPermissionsAgree() throws Exception {
    List<HasMetadata> objects = objects("overlays/local");
    Deployment deployment = one(objects, Deployment.class, "skein");
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container node = pod.getContainers().get(0);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertEquals("skein:0.1.0", node.getImage(), "kustomize's images: sets the tag the image build makes");
    assertEquals(deployment.getSpec().getSelector().getMatchLabels(), Map.of("app", "skein"));
    assertTrue(podLabels.entrySet().containsAll(deployment.getSpec().getSelector().getMatchLabels().entrySet()));

    // The node's command line and its config file, as the container will run them.
    List<String> args = node.getArgs();
    assertEquals("node", args.get(0));
    assertEquals("$(POD_IP)", arg(args, "--host"), "the node advertises its pod IP to the cluster");
    assertTrue(node.getEnv().stream().anyMatch(e -> e.getName().equals("POD_IP")
        && e.getValueFrom().getFieldRef().getFieldPath().equals("status.podIP")));
    assertEquals(port(node, "remoting"), Integer.parseInt(arg(args, "--port")));
    assertEquals(port(node, "http"), Integer.parseInt(arg(args, "--http-port")));
    String configPath = arg(args, "--config");
    var mount = node.getVolumeMounts().stream().filter(m -> configPath.startsWith(m.getMountPath() + "/")).findFirst()
        .orElseThrow(() -> new AssertionError("no volume holds " + configPath));
    String volumeMap = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow()
        .getConfigMap().getName();
    String hocon = one(objects, ConfigMap.class, volumeMap).getData().get(configPath.substring(mount.getMountPath().length() + 1));
    assertNotNull(hocon, "the ConfigMap holds the file --config names");
    Path file = Files.createTempFile("skein-k8s", ".conf");
    Files.writeString(file, hocon);
    NodeOptions options = new NodeOptions(Path.of("unused"), file, "jdbc:postgresql://db:5432/skein", "skein", null, "10.1.2.3",
        port(node, "remoting"), List.of(), port(node, "http"), true);
    Config config = SkeinNode.config(options);
    assertEquals("kubernetes-api", config.getString("skein.cluster.discovery"));
    assertEquals(port(node, "management"), config.getInt("pekko.management.http.port"), "management listens on the port named `management`");
    assertEquals("10.1.2.3", config.getString("pekko.management.http.hostname"), "and on the pod IP, where the probes and bootstrap reach it");
    assertEquals("management", config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.port-name"));
    String selector = String.format(config.getString("pekko.discovery.kubernetes-api.pod-label-selector"),
        config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name"));
    String[] kv = selector.split("=");
    assertEquals(kv[1], podLabels.get(kv[0]), "Cluster Bootstrap's label selector " + selector + " finds the pods");
    assertEquals("0.0.0.0", config.getString("skein.http.host"), "the Service reaches the HTTP API on the pod's address");

    // Probes on the management port, at the paths Pekko Management serves.
    assertEquals("management", node.getReadinessProbe().getHttpGet().getPort().getStrVal());
    assertEquals("/" + config.getString("pekko.management.health-checks.readiness-path"), node.getReadinessProbe().getHttpGet().getPath());
    assertEquals("management", node.getLivenessProbe().getHttpGet().getPort().getStrVal());
    assertEquals("/" + config.getString("pekko.management.health-checks.liveness-path"), node.getLivenessProbe().getHttpGet().getPath());
    long shutdownSeconds = config.getDuration("pekko.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout", TimeUnit.SECONDS);
    assertTrue(pod.getTerminationGracePeriodSeconds() > shutdownSeconds + 30,
        "the grace period outlasts the shard hand-off (" + shutdownSeconds + " s) and the rest of the shutdown");
    assertNotNull(node.getResources().getLimits().get("memory"), "a memory limit the JVM sizes its heap by");

    // The Service and the disruption budget select the pods; the Service's port is the container's.
    Service service = one(objects, Service.class, "skein");
    assertTrue(podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet()));
    assertEquals("http", service.getSpec().getPorts().get(0).getTargetPort().getStrVal());
    PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class, "skein");
    assertTrue(podLabels.entrySet().containsAll(pdb.getSpec().getSelector().getMatchLabels().entrySet()));

    // The pods' service account may get, watch and list pods, and nothing else.
    one(objects, ServiceAccount.class, pod.getServiceAccountName());
    RoleBinding binding = all(objects, RoleBinding.class).stream()
        .filter(b -> b.getSubjects().stream().anyMatch(s -> s.getName().equals(pod.getServiceAccountName()))).findFirst().orElseThrow();
    Role role = one(objects, Role.class, binding.getRoleRef().getName());
    assertEquals(1, role.getRules().size());
    assertEquals(List.of("pods"), role.getRules().get(0).getResources());
    assertEquals(Set.of("get", "watch", "list"), Set.copyOf(role.getRules().get(0).getVerbs()));
  }

  @Test
  void productionScalesOnTheRecordsInFlightANodeServesAndPrometheusScrapesThem() throws Exception {
    List<HasMetadata> objects = objects("overlays/production");
    Deployment deployment = one(objects, Deployment.class, "skein");
    Container node = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);

    // The gauge the HPA scales on is one a node serves on /metrics, by that name.
    var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
    new io.skein.worker.entity.RecordMeters(registry);
    String scrape = registry.scrape();
    HorizontalPodAutoscaler hpa = one(objects, HorizontalPodAutoscaler.class, "skein");
    assertEquals("Deployment", hpa.getSpec().getScaleTargetRef().getKind());
    assertEquals(deployment.getMetadata().getName(), hpa.getSpec().getScaleTargetRef().getName());
    MetricSpec metric = hpa.getSpec().getMetrics().get(0);
    assertEquals("Pods", metric.getType());
    String name = metric.getPods().getMetric().getName();
    assertTrue(scrape.contains("# TYPE " + name + " gauge"), name + " is not a gauge a node serves:\n" + scrape);
    int target = metric.getPods().getTarget().getAverageValue().getNumericalAmount().intValue();
    Config config = SkeinNode.config(new NodeOptions(Path.of("unused"), null, "jdbc:postgresql://db:5432/skein", null, null, "127.0.0.1", 2551,
        List.of(), 8080, true));
    assertTrue(target < config.getInt("skein.job.max-records-in-flight-per-node"),
        "it scales before the nodes are full: " + target + " of " + config.getInt("skein.job.max-records-in-flight-per-node"));
    assertTrue(hpa.getSpec().getMinReplicas() <= deployment.getSpec().getReplicas()
        && deployment.getSpec().getReplicas() <= hpa.getSpec().getMaxReplicas());

    // The Prometheus Adapter serves that metric under that name (its chart's values, beside the overlay).
    Map<?, ?> adapter = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
        .readValue(ROOT.resolve("overlays/production/prometheus-adapter-values.yaml").toFile(), Map.class);
    String rules = adapter.toString();
    assertTrue(rules.contains("seriesQuery=" + name + "{") && rules.contains("as=" + name), rules);

    // The ServiceMonitor finds the API Service, and scrapes /metrics on the container's HTTP port.
    ServiceMonitor monitor = one(objects, ServiceMonitor.class, "skein");
    Map<String, String> selector = monitor.getSpec().getSelector().getMatchLabels();
    List<Service> scraped = all(objects, Service.class).stream()
        .filter(s -> s.getMetadata().getLabels().entrySet().containsAll(selector.entrySet())).toList();
    assertEquals(List.of("skein"), scraped.stream().map(s -> s.getMetadata().getName()).toList());
    Endpoint endpoint = monitor.getSpec().getEndpoints().get(0);
    assertEquals("/metrics", endpoint.getPath());
    var servicePort = scraped.get(0).getSpec().getPorts().stream().filter(p -> p.getName().equals(endpoint.getPort())).findFirst()
        .orElseThrow(() -> new AssertionError("the Service has no port " + endpoint.getPort()));
    assertEquals(port(node, servicePort.getTargetPort().getStrVal()), Integer.parseInt(arg(node.getArgs(), "--http-port")),
        "the scraped port is the node's HTTP port, which serves /metrics");
  }

  @Test
  void everyConfigMapAndSecretTheContainersReadIsThereOrOptional() {
    assertReferencesResolve(objects("overlays/local"), Set.of());
    // Production's database password and provider keys are the operator's own Secrets (see its kustomization).
    assertReferencesResolve(objects("overlays/production"), Set.of("skein-db", "skein-providers", "skein-api-tokens"));
  }

  @Test
  void theApiTokensComeFromASecretThatProductionRequires() {
    assertEquals(Boolean.TRUE, tokensRef("overlays/local").getOptional(), "locally the API may go without tokens");
    assertEquals(Boolean.FALSE, tokensRef("overlays/production").getOptional(), "a production pod does not start without them");
    assertEquals(Optional.of("off"), env("overlays/local", "SKEIN_AUTH"), "a local cluster runs open, on purpose");
    assertEquals(Optional.empty(), env("overlays/production", "SKEIN_AUTH"), "production asks for tokens (listening on 0.0.0.0)");
  }

  private static Optional<String> env(String overlay, String name) {
    Container node = one(objects(overlay), Deployment.class, "skein").getSpec().getTemplate().getSpec().getContainers().get(0);
    return node.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst();
  }

  private static io.fabric8.kubernetes.api.model.SecretKeySelector tokensRef(String overlay) {
    Container node = one(objects(overlay), Deployment.class, "skein").getSpec().getTemplate().getSpec().getContainers().get(0);
    EnvVar tokens = node.getEnv().stream().filter(e -> e.getName().equals("SKEIN_API_TOKENS")).findFirst()
        .orElseThrow(() -> new AssertionError(overlay + ": the node reads no SKEIN_API_TOKENS"));
    assertEquals("skein-api-tokens", tokens.getValueFrom().getSecretKeyRef().getName());
    return tokens.getValueFrom().getSecretKeyRef();
  }

  private static void assertReferencesResolve(List<HasMetadata> objects, Set<String> brought) {
    Map<String, Set<String>> maps = all(objects, ConfigMap.class).stream()
        .collect(Collectors.toMap(m -> m.getMetadata().getName(), m -> m.getData().keySet()));
    Map<String, Set<String>> secrets = all(objects, Secret.class).stream()
        .collect(Collectors.toMap(s -> s.getMetadata().getName(), s -> s.getData().keySet()));
    List<PodSpec> pods = new ArrayList<>();
    all(objects, Deployment.class).forEach(d -> pods.add(d.getSpec().getTemplate().getSpec()));
    all(objects, StatefulSet.class).forEach(s -> pods.add(s.getSpec().getTemplate().getSpec()));
    for (PodSpec pod : pods) {
      for (Container c : pod.getContainers()) {
        for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
          if (e.getValueFrom() == null) {
            continue;
          }
          var cm = e.getValueFrom().getConfigMapKeyRef();
          if (cm != null) {
            assertTrue(maps.getOrDefault(cm.getName(), Set.of()).contains(cm.getKey()), c.getName() + " env " + e.getName() + ": no " + cm);
          }
          var secret = e.getValueFrom().getSecretKeyRef();
          if (secret != null && !Boolean.TRUE.equals(secret.getOptional()) && !brought.contains(secret.getName())) {
            assertTrue(secrets.getOrDefault(secret.getName(), Set.of()).contains(secret.getKey()),
                c.getName() + " env " + e.getName() + ": no Secret key " + secret.getName() + "/" + secret.getKey());
          }
        }
      }
      pod.getVolumes().stream().filter(v -> v.getConfigMap() != null)
          .forEach(v -> assertTrue(maps.containsKey(v.getConfigMap().getName()), "volume " + v.getName() + ": no ConfigMap"));
    }
  }

  @Test
  void theLocalOverlaysDatabaseIsTheOneItsNodesConnectTo() {
    List<HasMetadata> objects = objects("overlays/local");
    String url = one(objects, ConfigMap.class, "skein-database").getData().get("url");
    Service postgres = one(objects, Service.class, "skein-postgres");
    assertTrue(url.startsWith("jdbc:postgresql://" + postgres.getMetadata().getName() + ":" + postgres.getSpec().getPorts().get(0).getPort() + "/"),
        url);
    StatefulSet db = one(objects, StatefulSet.class, "skein-postgres");
    assertTrue(postgres.getSpec().getSelector().entrySet().containsAll(db.getSpec().getTemplate().getMetadata().getLabels().entrySet()));
    assertEquals(1, db.getSpec().getVolumeClaimTemplates().size(), "its data is on a PersistentVolumeClaim");
    String password = new String(Base64.getDecoder().decode(one(objects, Secret.class, "skein-db").getData().get("password")));
    assertTrue(!password.isBlank());
    assertEquals(3, one(objects, Deployment.class, "skein").getSpec().getReplicas());
    assertEquals(5, one(objects("overlays/production"), Deployment.class, "skein").getSpec().getReplicas());
    assertTrue(one(objects("overlays/production"), Deployment.class, "skein").getSpec().getTemplate().getSpec().getContainers().get(0)
        .getArgs().contains("--no-simulator"), "production nodes run no simulator");
  }
}
