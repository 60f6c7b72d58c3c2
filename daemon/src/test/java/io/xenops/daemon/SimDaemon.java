package io.xenops.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.daemon.config.DaemonConfig;
import io.xenops.driver.sim.SimDriver;
import io.xenops.image.Image;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** An in-process daemon on the simulated hypervisor, with an HTTP client for it: the fixture of component tests. */
final class SimDaemon implements AutoCloseable {
    final ObjectMapper json = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    final Path state;
    final SimDriver sim;
    final Daemon daemon;
    final String base;
    String token;

    SimDaemon(Map<String, Integer> pools, SimDriver.Faults faults, Path tokensFile, Path unixSocket) throws Exception {
        this(pools, true, faults, tokensFile, unixSocket);
    }

    SimDaemon(Map<String, Integer> pools, boolean coldSpawn, SimDriver.Faults faults, Path tokensFile, Path unixSocket)
            throws Exception {
        state = Files.createTempDirectory(Path.of("/tmp"), "xo-");
        Path images = Files.createTempDirectory("xo-img-");
        for (String name : List.of("hello", "other")) {
            Path dir = Files.createDirectories(images.resolve(name));
            Files.writeString(dir.resolve("manifest.json"), "{\"name\":\"" + name
                    + "\",\"version\":\"0.1.0\",\"memory_mib\":8,\"vcpus\":1,\"boot_modes\":[\"pvh\"],\"cmdline\":\"\",\"readiness\":\"console\"}");
            Files.copy(kernel(), dir.resolve("kernel.elf"));
        }
        DaemonConfig cfg = new DaemonConfig("127.0.0.1", 0, state, List.of(images), "sim", "auto", "qemu", pools, 16,
                coldSpawn, 2, Duration.ofSeconds(2), Duration.ofSeconds(2), 4096, tokensFile, unixSocket, null, "test:///default");
        sim = new SimDriver(faults);
        daemon = new Daemon(cfg, new Drivers() {
            @Override
            public Selected create(DaemonConfig c, List<Image> i) { return new Selected(sim, "none"); }
        });
        daemon.start().toCompletionStage().toCompletableFuture().get();
        base = "http://127.0.0.1:" + daemon.port();
    }

    /** A real unikernel ELF: the image store checks boot notes even when the hypervisor is simulated. */
    static Path kernel() {
        Path k = Path.of(System.getProperty("xenops.kernel", "../unikernel/target/images/hello/kernel.elf"));
        if (!Files.isRegularFile(k)) {
            throw new AssertionError(k.toAbsolutePath() + " is missing: build the unikernel module first (mvn -pl unikernel package)");
        }
        return k;
    }

    HttpResponse<String> send(String method, String path, String body) throws Exception {
        return send(method, path, body, "application/json");
    }

    HttpResponse<String> send(String method, String path, String body, String contentType) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (body != null) b.header("Content-Type", contentType);
        if (token != null) b.header("Authorization", "Bearer " + token);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode json(String method, String path, String body, int status) throws Exception {
        HttpResponse<String> r = send(method, path, body);
        if (r.statusCode() != status) throw new AssertionError(method + " " + path + " -> " + r.statusCode() + " " + r.body());
        return r.body().isEmpty() ? null : json.readTree(r.body());
    }

    int poolReady(String image) {
        try {
            return json("GET", "/v1/pools/" + image, null, 200).get("ready").asInt();
        } catch (Exception e) {
            return -1;
        }
    }

    static void eventually(BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L; // generous: CI machines are shared
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 20 s");
            Thread.sleep(10);
        }
    }

    @Override
    public void close() { daemon.close(); }
}
