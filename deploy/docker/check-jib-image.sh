#!/usr/bin/env bash
# Builds the Jib image (./mvnw -Pimage package) from a stand-in base image — a docker-save tarball
# made here, since no registry with a JRE image is reachable — and checks what the image holds:
# its name, entrypoint, command, user, ports, env and working directory, the launcher (executable)
# and Skein's classes and libraries in Jib's layers. The image is not run (there is no JRE in the
# stand-in base and no Docker engine here); ContainerImageTest runs the launcher itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/base/root/etc" "$work/base/out"
echo "a stand-in base image" > "$work/base/root/etc/stand-in-base"
tar -C "$work/base/root" -cf "$work/base/out/layer.tar" etc
digest=$(sha256sum "$work/base/out/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/bin:/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$digest" > "$work/base/out/config.json"
printf '[{"Config":"config.json","RepoTags":["stand-in-base:1"],"Layers":["layer.tar"]}]' > "$work/base/out/manifest.json"
tar -C "$work/base/out" -cf "$work/base.tar" manifest.json config.json layer.tar

./mvnw -B -q -Pimage package -pl deploy -am -DskipTests -Dskein.image.base="tar://$work/base.tar"
python3 - deploy/target/jib-image.tar <<'PY'
import io, json, sys, tarfile
image = tarfile.open(sys.argv[1])
manifest = json.load(image.extractfile("manifest.json"))[0]
config = json.load(image.extractfile(manifest["Config"]))["config"]
def check(ok, what):
    if not ok:
        sys.exit("jib image: " + what + "\n" + json.dumps(config, indent=1))
check(manifest["RepoTags"] == ["skein:0.1.0"], "tagged skein:0.1.0, as the manifests run it: %s" % manifest["RepoTags"])
check(config["Entrypoint"] == ["/opt/skein/bin/skein"], "the entrypoint is the launcher")
check(config["Cmd"] == ["node"], "the command is `node`")
check(config["User"] == "10001", "the user is 10001, not root")
check(set(config["ExposedPorts"]) == {"2551/tcp", "7626/tcp", "8080/tcp"}, "the ports are remoting, management and http")
check("SKEIN_CLASSPATH=/app/resources:/app/classes:/app/libs/*" in config["Env"], "the launcher runs Jib's layers")
check(config["WorkingDir"] == "/var/lib/skein", "the working directory is the pod's work volume")
files = {}
for layer in manifest["Layers"]:
    with tarfile.open(fileobj=io.BytesIO(image.extractfile(layer).read())) as t:
        for m in t.getmembers():
            files[m.name.lstrip("./").lstrip("/")] = m
launcher = files.get("opt/skein/bin/skein")
check(launcher is not None and launcher.mode & 0o111, "the launcher is in the image, executable")
check("app/classes/io/skein/deploy/Main.class" in files, "Skein's classes are in the image")
check(any(f.startswith("app/libs/pekko-management") for f in files), "its libraries are in the image")
check("etc/stand-in-base" in files, "the image is built on its base")
print("jib image: deploy/target/jib-image.tar is skein:0.1.0 with the launcher, user 10001 and the three ports (%d files)" % len(files))
PY
