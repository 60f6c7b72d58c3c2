package io.xenops.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The real xenopsd, started as its own process from the built jar, as an operator would run it. Its log
 * goes to a file in the state directory so a failing test can show it.
 */
final class DaemonProcess implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("xenops.root", "../..")).toAbsolutePath().normalize();
    static final Path JAR = ROOT.resolve("daemon/target/xenopsd.jar");
    static final Path IMAGES = ROOT.resolve("unikernel/target/images");

    final Path stateDir;
    final Path log;
    private final List<String> extraArgs;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private int port;

    DaemonProcess(Path stateDir, List<String> extraArgs) {
        this.stateDir = stateDir;
        this.log = stateDir.resolveSibling(stateDir.getFileName() + ".log");
        this.extraArgs = extraArgs;
    }

    static void requireBuilt() {
        if (!Files.isRegularFile(JAR)) throw new AssertionError(JAR + " is missing: build with ./xenops build (or mvn install)");
        if (!Files.isRegularFile(IMAGES.resolve("hello/kernel.elf"))) {
            throw new AssertionError(IMAGES + "/hello is missing: build the unikernel module first");
        }
        try {
            Process p = new ProcessBuilder("qemu-system-x86_64", "--version").redirectErrorStream(true).start();
            if (p.waitFor() != 0) throw new AssertionError("qemu-system-x86_64 does not run");
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86): " + e.getMessage());
        }
    }

    DaemonProcess start() throws Exception {
        Files.createDirectories(stateDir);
        Files.deleteIfExists(stateDir.resolve("xenopsd.port"));
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-jar", JAR.toString(),
                "--listen", "127.0.0.1:0", "--state-dir", stateDir.toString(), "--images-dir", IMAGES.toString()));
        cmd.addAll(extraArgs);
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Path portFile = stateDir.resolve("xenopsd.port");
        // Generous: start-up includes a KVM probe boot, and CI machines are shared.
        eventually(Duration.ofSeconds(120), () -> Files.exists(portFile) || !process.isAlive());
        if (!process.isAlive()) throw new AssertionError("xenopsd exited with " + process.exitValue() + ":\n" + logText());
        port = Integer.parseInt(Files.readString(portFile).trim());
        return this;
    }

    String url() { return "http://127.0.0.1:" + port; }

    long pid() { return process.pid(); }

    boolean alive() { return process != null && process.isAlive(); }

    /** The crash we promise to survive. */
    void kill9() throws Exception {
        new ProcessBuilder("kill", "-9", Long.toString(process.pid())).start().waitFor();
        process.waitFor();
    }

    void stop() throws Exception {
        if (process == null || !process.isAlive()) return;
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }

    String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return "(cannot read log: " + e + ")";
        }
    }

    HttpResponse<String> call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(60));
        if (body != null) b.header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode json(String method, String path, String body, int expectStatus) throws Exception {
        HttpResponse<String> r = call(method, path, body);
        if (r.statusCode() != expectStatus) {
            throw new AssertionError(method + " " + path + " -> " + r.statusCode() + " " + r.body() + "\n--- daemon log ---\n" + logText());
        }
        return r.body().isEmpty() ? null : json.readTree(r.body());
    }

    int poolReady(String image) {
        try {
            return json("GET", "/v1/pools/" + image, null, 200).get("ready").asInt();
        } catch (Exception e) {
            return -1;
        }
    }

    static void eventually(Duration limit, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + limit);
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws Exception {
        stop();
    }

    /** The record files of one VM under {@code <state>/vms} (every generation, temp and corrupt copies). */
    static List<Path> recordFiles(Path stateDir, String id) {
        Path vms = stateDir.resolve("vms");
        if (!Files.isDirectory(vms)) return List.of();
        try (var s = Files.list(vms)) {
            return s.filter(f -> f.getFileName().toString().startsWith(id + ".")).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
