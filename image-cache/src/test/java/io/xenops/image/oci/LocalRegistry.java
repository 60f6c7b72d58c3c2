package io.xenops.image.oci;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real OCI registry on loopback: Debian's docker-registry (the CNCF distribution server), started on a free
 * port with a temporary storage directory and stopped by the test. When the binary is missing the test
 * FAILS with the command that installs it (./xenops test installs it; as root this tries apt-get itself).
 */
public final class LocalRegistry implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/docker-registry");
    private final Process process;
    private final Path log;
    private final int port;

    private LocalRegistry(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    public static LocalRegistry start(Path dir) throws IOException, InterruptedException {
        ensureInstalled();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path storage = Files.createDirectories(dir.resolve("storage"));
        Path config = dir.resolve("config.yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: warn
                  accesslog:
                    disabled: false
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:%d
                  secret: xenops-test-secret
                """.formatted(storage, port));
        Path log = dir.resolve("registry.log");
        Process p = new ProcessBuilder(BINARY.toString(), "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        LocalRegistry r = new LocalRegistry(p, log, port);
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            if (!p.isAlive()) throw new IllegalStateException("docker-registry exited: " + Files.readString(log));
            try {
                HttpResponse<Void> resp = http.send(HttpRequest.newBuilder(URI.create(r.url() + "/v2/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (resp.statusCode() == 200) break;
            } catch (IOException notYet) {
                // still starting
            }
            if (System.nanoTime() > deadline) {
                r.close();
                throw new IllegalStateException("docker-registry did not answer on port " + port + ": " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return r;
    }

    private static void ensureInstalled() throws IOException, InterruptedException {
        if (Files.isExecutable(BINARY)) return;
        boolean root = "root".equals(System.getProperty("user.name"));
        String why = "";
        if (root && Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            Process p = new ProcessBuilder("apt-get", "install", "-y", "-qq", "docker-registry")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(5, TimeUnit.MINUTES)) p.destroyForcibly().waitFor();
            if (Files.isExecutable(BINARY)) return;
            why = " (apt-get install failed: " + out.strip().lines().reduce((a, b) -> b).orElse("") + ")";
        }
        throw new IllegalStateException(BINARY + " is missing: these tests need a real OCI registry on loopback."
                + " Install it with: sudo apt-get install -y docker-registry (./xenops test does)" + why);
    }

    public int port() { return port; }

    public String host() { return "127.0.0.1:" + port; }

    public String url() { return "http://" + host(); }

    /** The access log lines so far (one per request). */
    public List<String> accessLog() throws IOException {
        return Files.readAllLines(log).stream().filter(l -> l.contains("\"GET ") || l.contains("\"PUT ")
                || l.contains("\"HEAD ") || l.contains("\"POST ") || l.contains("\"PATCH ")).toList();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
