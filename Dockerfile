# Skein's image: the shaded jar, its launcher, a JRE, a user that is not root.
#   docker build -t skein:0.1.0 .
# Without a Docker daemon, the same image: ./mvnw -Pimage package (Jib, see deploy/pom.xml).

# 1. Build the jar with the Maven wrapper (the tests run in CI, not in the image build).
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests package

# 2. The runtime: a JRE and what Skein needs, nothing else.
FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 skein && useradd --system --uid 10001 --gid skein --home-dir /opt/skein skein
COPY --from=build /src/deploy/target/skein.jar /opt/skein/skein.jar
COPY deploy/docker/skein /opt/skein/bin/skein
# The node's working directory: where an H2 store would go (on Kubernetes the journal is PostgreSQL).
RUN mkdir -p /var/lib/skein && chown skein:skein /var/lib/skein && chmod 0755 /opt/skein/bin/skein
WORKDIR /var/lib/skein
USER 10001
# remoting, management (probes, bootstrap), HTTP API
EXPOSE 2551 7626 8080
ENTRYPOINT ["/opt/skein/bin/skein"]
CMD ["node"]
