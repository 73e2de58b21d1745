package io.skein.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The image as the Dockerfile and the Jib build make it agrees with the manifests (entrypoint,
 * user, ports, image name, the jar where the launcher looks), and the launcher, run with the
 * Deployment's command line, env and config file, starts a node that finds itself through the
 * Kubernetes API, turns ready and runs a job. No Docker engine is needed: what the image would hold
 * runs here as it would in the container.
 */
class ContainerImageTest {

  private static final Path DEPLOY = Path.of(System.getProperty("user.dir"));
  private static final Path ROOT = DEPLOY.getParent();

  @TempDir
  Path dir;

  @BeforeAll
  static void kustomize() throws Exception {
    KubernetesManifestsTest.kustomize();
  }

  /** The Dockerfile's instructions of its last stage (the image), continuation lines joined. */
  static List<String[]> finalStage() throws Exception {
    List<String[]> out = new ArrayList<>();
    String text = Files.readString(ROOT.resolve("Dockerfile")).replaceAll("\\\\\\n", " ");
    for (String line : text.split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      String[] instruction = l.split("\\s+", 2);
      if (instruction[0].equalsIgnoreCase("FROM")) {
        out.clear();
      }
      out.add(new String[] {instruction[0].toUpperCase(), instruction.length > 1 ? instruction[1] : ""});
    }
    return out;
  }

  private static List<String> values(List<String[]> stage, String instruction) {
    return stage.stream().filter(i -> i[0].equals(instruction)).map(i -> i[1]).toList();
  }

  /** The jib-maven-plugin configuration of the `image` profile. */
  private static Element jib() throws Exception {
    Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(DEPLOY.resolve("pom.xml").toFile());
    NodeList plugins = pom.getElementsByTagName("plugin");
    for (int i = 0; i < plugins.getLength(); i++) {
      Element p = (Element) plugins.item(i);
      if (text(p, "artifactId").equals("jib-maven-plugin")) {
        return (Element) p.getElementsByTagName("configuration").item(0);
      }
    }
    throw new AssertionError("no jib-maven-plugin in deploy/pom.xml");
  }

  private static String text(Element e, String tag) {
    return e.getElementsByTagName(tag).item(0).getTextContent().strip();
  }

  private static Container node(List<HasMetadata> objects) {
    return objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst().orElseThrow()
        .getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  @Test
  void theDockerfileTheJibBuildAndTheManifestsDescribeOneImage() throws Exception {
    List<String[]> image = finalStage();
    assertTrue(values(image, "FROM").get(0).contains("-jre"), "the runtime stage is a JRE: " + values(image, "FROM"));
    List<HasMetadata> objects = KubernetesManifestsTest.objects("overlays/local");
    Container node = node(objects);
    PodSpec pod = objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst().orElseThrow()
        .getSpec().getTemplate().getSpec();

    String user = values(image, "USER").get(values(image, "USER").size() - 1);
    assertTrue(user.matches("\\d+") && !user.equals("0"), "the image runs as a numeric user that is not root: " + user);
    assertEquals(Long.parseLong(user), pod.getSecurityContext().getRunAsUser(), "the pod runs as the image's user");
    assertTrue(pod.getSecurityContext().getRunAsNonRoot());

    Set<Integer> exposed = values(image, "EXPOSE").stream().flatMap(v -> List.of(v.split("\\s+")).stream()).map(Integer::parseInt)
        .collect(Collectors.toSet());
    Set<Integer> containerPorts = node.getPorts().stream().map(ContainerPort::getContainerPort).collect(Collectors.toSet());
    assertEquals(containerPorts, exposed, "the image exposes the Deployment's ports");

    String entrypoint = values(image, "ENTRYPOINT").get(0);
    Matcher exec = Pattern.compile("^\\[\"([^\"]+)\"\\]$").matcher(entrypoint);
    assertTrue(exec.matches(), "the entrypoint is the launcher, in exec form: " + entrypoint);
    String launcher = exec.group(1);
    assertTrue(values(image, "COPY").contains("deploy/docker/skein " + launcher), "the launcher is copied where the entrypoint runs it");
    String launcherText = Files.readString(DEPLOY.resolve("docker/skein"));
    Matcher home = Pattern.compile(":\\s*\"\\$\\{SKEIN_HOME:=([^}]+)}\"").matcher(launcherText);
    assertTrue(home.find(), "the launcher says where it finds the jar");
    assertTrue(values(image, "COPY").contains("--from=build /src/deploy/target/skein.jar " + home.group(1) + "/skein.jar"),
        "the jar is where the launcher runs it from");
    assertEquals(List.of("[\"node\"]"), values(image, "CMD"), "the image starts a node; the Deployment's args say which");
    assertEquals("node", node.getArgs().get(0));
    assertTrue(node.getCommand() == null || node.getCommand().isEmpty(), "the Deployment keeps the image's entrypoint");

    Element jib = jib();
    assertEquals(launcher, text(jib, "entrypoint"), "the Jib image runs the same launcher");
    assertEquals(user, text(jib, "user"));
    NodeList ports = jib.getElementsByTagName("port");
    Set<Integer> jibPorts = new java.util.HashSet<>();
    for (int i = 0; i < ports.getLength(); i++) {
      jibPorts.add(Integer.parseInt(ports.item(i).getTextContent().strip()));
    }
    assertEquals(containerPorts, jibPorts);
    String tag = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(DEPLOY.resolve("pom.xml").toFile())
        .getElementsByTagName("skein.image.tag").item(0).getTextContent().strip();
    assertEquals(text(jib, "to").replace("${skein.image.tag}", tag), node.getImage(), "Jib tags the image the manifests run");
    assertTrue(text(jib, "SKEIN_CLASSPATH").startsWith("/app/"), "the launcher runs Jib's layers");
    String workdir = values(image, "WORKDIR").get(values(image, "WORKDIR").size() - 1);
    assertEquals(workdir, text(jib, "workingDirectory"));
    assertTrue(node.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals(workdir) && !Boolean.TRUE.equals(m.getReadOnly())),
        "the pod mounts a writable volume at the image's working directory, where the node makes its data dir");
    assertTrue(launcherText.contains("MaxRAMPercentage") && launcherText.contains("ExitOnOutOfMemoryError"),
        "the launcher sizes the JVM by the container");
  }

  @Test
  void theLauncherStartsANodeWithTheDeploymentsCommandEnvAndConfig() throws Exception {
    List<HasMetadata> objects = KubernetesManifestsTest.objects("overlays/local");
    Container node = node(objects);
    String hocon = objects.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast)
        .filter(m -> m.getMetadata().getName().equals("skein-config")).findFirst().orElseThrow().getData().get("skein.conf");
    int remoting = SkeinProcess.freePort();
    int management = SkeinProcess.freePort();
    int http = SkeinProcess.freePort();
    Map<Integer, Integer> ports = Map.of(port(node, "remoting"), remoting, port(node, "management"), management, port(node, "http"), http);

    try (KubernetesApiStandIn api = new KubernetesApiStandIn(dir)) {
      api.addPod("skein-0", "Running", management);
      // The ConfigMap's file, with this machine's free ports for the pod's and the stand-in API's files
      // for the service account's (which a pod has at /var/run/secrets).
      Path config = dir.resolve("skein.conf");
      String file = hocon;
      for (Map.Entry<Integer, Integer> p : ports.entrySet()) {
        file = file.replace("= " + p.getKey(), "= " + p.getValue());
      }
      Files.writeString(config, file + "\n" + api.discoveryConfig());

      // The Deployment's args and env, as the kubelet would expand them on a pod at 127.0.0.1.
      Map<String, String> env = new HashMap<>(api.env());
      for (EnvVar e : node.getEnv()) {
        env.put(e.getName(), envValue(e, objects));
      }
      env.put("SKEIN_DB_URL", "jdbc:h2:file:" + dir.resolve("db").toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE");
      env.put("SKEIN_DB_USER", "");
      env.put("SKEIN_DB_PASSWORD", "");
      env.put("SKEIN_REQUIRED_CONTACT_POINTS", "1");
      env.put("SKEIN_CLASSPATH", System.getProperty("java.class.path"));
      env.put("JAVA_HOME", System.getProperty("java.home"));
      List<String> command = new ArrayList<>(List.of("sh", DEPLOY.resolve("docker/skein").toString()));
      for (String arg : node.getArgs()) {
        String a = arg.replace("$(POD_IP)", env.get("POD_IP"));
        a = a.equals("/etc/skein/skein.conf") ? config.toString() : a;
        command.add(a.matches("\\d+") && ports.containsKey(Integer.parseInt(a)) ? String.valueOf(ports.get(Integer.parseInt(a))) : a);
      }
      try (SkeinProcess process = SkeinProcess.launch(dir.resolve("node.log"), env, command)) {
        Http probes = new Http("127.0.0.1", management);
        SkeinProcess.await("the node ready", Duration.ofMinutes(2), () -> status(probes, "/ready") == 200, process);
        assertEquals(200, status(probes, "/alive"));
        Http api2 = new Http("127.0.0.1", http).withToken(API_TOKEN);
        assertEquals(401, new Http("127.0.0.1", http).get("/jobs").status(), "the Secret's token guards the API");
        ObjectNode body = Http.JSON.createObjectNode();
        body.put("spec", """
            name: from-the-manifests
            models: {m: {model: sim-small}}
            input: {num_records: 5}
            steps:
              - {name: a, model: m, prompt: "Say something"}
            """);
        Http.Response created = api2.post("/jobs", "application/json", body.toString());
        assertEquals(201, created.status(), created.body());
        JsonNode done = api2.awaitState(created.json().get("id").asText(), "succeeded", Duration.ofMinutes(1));
        assertEquals(5, done.get("succeeded").asInt());
        assertTrue(processArgs(process), "the launcher's flags reached the JVM: " + process.commandLine());
        process.terminate();
        assertTrue(!process.isAlive(), "SIGTERM stops the node");
      }
    }
  }

  /** Whether the node's JVM (the launcher execs it: same process) was started with the launcher's flags. */
  private static boolean processArgs(SkeinProcess process) {
    return process.commandLine().contains("-XX:MaxRAMPercentage=70") && process.commandLine().contains("-XX:+ExitOnOutOfMemoryError");
  }

  private static int port(Container c, String name) {
    return c.getPorts().stream().filter(p -> name.equals(p.getName())).mapToInt(ContainerPort::getContainerPort).findFirst().orElseThrow();
  }

  private static int status(Http http, String path) {
    try {
      return http.get(path).status();
    } catch (Exception e) {
      return -1;
    }
  }

  /** The test's own skein-api-tokens Secret holds this token. */
  private static final String API_TOKEN = "manifest-token-0f1e2d3c4b5a6978";

  /** What the kubelet would set: a literal, a field of the pod, or a ConfigMap's key (Secrets are the test's own). */
  private static String envValue(EnvVar e, List<HasMetadata> objects) {
    if (e.getValue() != null) {
      return e.getValue();
    }
    var from = e.getValueFrom();
    if (from.getFieldRef() != null) {
      return switch (from.getFieldRef().getFieldPath()) {
        case "status.podIP" -> "127.0.0.1";
        case "metadata.namespace" -> KubernetesApiStandIn.NAMESPACE;
        default -> throw new AssertionError("a field the test does not know: " + from.getFieldRef().getFieldPath());
      };
    }
    if (from.getConfigMapKeyRef() != null) {
      return objects.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast)
          .filter(m -> m.getMetadata().getName().equals(from.getConfigMapKeyRef().getName())).findFirst().orElseThrow()
          .getData().get(from.getConfigMapKeyRef().getKey());
    }
    return from.getSecretKeyRef() != null && from.getSecretKeyRef().getName().equals("skein-api-tokens") ? API_TOKEN : "";
  }
}
