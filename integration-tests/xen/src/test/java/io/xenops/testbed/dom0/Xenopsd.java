package io.xenops.testbed.dom0;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The real xenopsd as its own process inside dom0, as an operator would run it there: the JDK and the
 * classpath this JVM got over 9p, state under {@code /var/lib}, the bundled images from the shared
 * repository, and no {@code --driver}: it must find Xen by itself. Its log goes to the working
 * directory (the job's share) so a failing test can show it. Also the dom0-side views the tests check the daemon against
 * ({@code xl list}, xenstore, xenconsoled's logs).
 */
public final class Xenopsd implements AutoCloseable {
    public static final Path REPO = Path.of(System.getProperty("xenops.repo.root", "../..")).toAbsolutePath().normalize();
    public static final Path CONSOLE_LOGS = Path.of("/var/log/xen/console");

    public final Path stateDir;
    public final Path log;
    private final List<String> args;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Process process;
    private int port;

    public Xenopsd(Path stateDir, List<String> args) {
        this.stateDir = stateDir;
        // In the working directory, which is the job's directory on the host share: readable from the host
        // while the suite runs, and kept in target/xen-testbed afterwards.
        this.log = Path.of("").toAbsolutePath().resolve(stateDir.getFileName() + ".log");
        this.args = List.copyOf(args);
    }

    /** The images the daemon imports at start: the product images and the test fixtures (crash). */
    public static List<String> imageArgs() {
        Path images = REPO.resolve("unikernel/target/images");
        Path fixtures = REPO.resolve("unikernel/target/test-images");
        for (Path p : List.of(images.resolve("hello/kernel.elf"), images.resolve("sha256/kernel.elf"), fixtures.resolve("crash/kernel.elf"))) {
            if (!Files.isRegularFile(p)) throw new AssertionError(p + " is missing: build the unikernel module first (mvn -DskipTests package)");
        }
        return List.of("--images-dir", images.toString(), "--images-dir", fixtures.toString());
    }

    public Xenopsd start() throws Exception {
        Files.createDirectories(stateDir);
        Files.deleteIfExists(stateDir.resolve("xenopsd.port"));
        // The testbed's dom0 has no NIC and its init leaves even the loopback down; the API listens on it.
        Sh lo = sh("ip link set lo up 2>/dev/null || busybox ip link set lo up || busybox ifconfig lo 127.0.0.1 up; ip -o addr show lo 2>/dev/null || busybox ip -o addr show lo");
        if (!lo.out().contains("127.0.0.1")) throw new AssertionError("cannot bring up dom0's loopback for the API: " + lo.out());
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED", "-Xshare:off",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "io.xenops.daemon.Main",
                "--listen", "127.0.0.1:0", "--state-dir", stateDir.toString()));
        cmd.addAll(imageArgs());
        cmd.addAll(args);
        Files.writeString(log, "=== " + String.join(" ", cmd.subList(cmd.indexOf("io.xenops.daemon.Main"), cmd.size())) + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        process.getOutputStream().close();
        Path portFile = stateDir.resolve("xenopsd.port");
        // A JVM start under TCG over 9p takes a minute or more on a loaded machine.
        long t0 = System.nanoTime();
        try {
            eventually(Duration.ofSeconds(1200), () -> Files.exists(portFile) || !process.isAlive());
        } catch (AssertionError e) {
            // Where is it stuck? A thread dump (SIGQUIT) goes to its log.
            sh("kill -QUIT " + process.pid());
            Thread.sleep(5000);
            throw new AssertionError("xenopsd did not listen within 1200 s:\n" + logText() + "\n" + sh("uptime; ps -eo pid,stat,time,rss,args | grep -v ' \\[' | head -40").out(), e);
        }
        if (!process.isAlive()) throw new AssertionError("xenopsd exited with " + process.exitValue() + ":\n" + logText());
        System.out.printf("xenopsd (pid %d) listening after %d ms%n", process.pid(), (System.nanoTime() - t0) / 1_000_000);
        eventually(Duration.ofSeconds(10), () -> {
            try {
                return !Files.readString(portFile).isBlank();
            } catch (IOException e) {
                return false;
            }
        });
        port = Integer.parseInt(Files.readString(portFile).trim());
        return this;
    }

    public String url() { return "http://127.0.0.1:" + port; }

    public long pid() { return process.pid(); }

    public boolean alive() { return process != null && process.isAlive(); }

    public Process process() { return process; }

    /** The crash the daemon promises to survive. */
    public void kill9() throws Exception {
        sh("kill -9 " + process.pid());
        process.waitFor();
    }

    public void stop() throws Exception {
        if (process == null || !process.isAlive()) return;
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }

    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return "(cannot read log: " + e + ")";
        }
    }

    public HttpResponse<String> call(String method, String path, String body) throws Exception {
        return call(method, path, body, Duration.ofSeconds(120));
    }

    public HttpResponse<String> call(String method, String path, String body, Duration timeout) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path)).timeout(timeout);
        if (body != null) b.header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public JsonNode json(String method, String path, String body, int expectStatus) throws Exception {
        HttpResponse<String> r = call(method, path, body);
        if (r.statusCode() != expectStatus) {
            throw new AssertionError(method + " " + path + " " + (body == null ? "" : body) + " -> " + r.statusCode() + " " + r.body()
                    + "\n--- xl list ---\n" + sh("xl list").out() + "\n--- daemon log (tail) ---\n" + tail(logText(), 60));
        }
        return r.body().isEmpty() ? null : json.readTree(r.body());
    }

    public JsonNode readTree(String s) throws IOException { return json.readTree(s); }

    public int poolReady(String image) {
        try {
            return json("GET", "/v1/pools/" + image, null, 200).get("ready").asInt();
        } catch (Exception | AssertionError e) {
            return -1;
        }
    }

    /** Waits until the pool holds {@code n} ready members; on timeout fails with the daemon's log. */
    public void awaitPool(String image, int n, Duration limit) throws Exception {
        try {
            eventually(limit, () -> poolReady(image) == n);
        } catch (AssertionError e) {
            throw new AssertionError("pool " + image + " did not reach " + n + " ready within " + limit + " (ready "
                    + poolReady(image) + ")\n--- xl list ---\n" + sh("xl list").out() + "\n--- daemon log (tail) ---\n"
                    + tail(logText(), 80), e);
        }
    }

    /** VM ids by the role in the daemon's own records (pooled VMs are not shown by the API). */
    public Set<String> idsWithRole(String role) throws IOException {
        Set<String> ids = new TreeSet<>();
        Path vms = stateDir.resolve("vms");
        if (!Files.isDirectory(vms)) return ids;
        try (Stream<Path> s = Files.list(vms)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".json")).toList()) {
                try {
                    JsonNode r = json.readTree(p.toFile());
                    if (role.equals(r.get("role").asText())) ids.add(r.get("id").asText());
                } catch (IOException e) {
                    // written as we read it; the next look sees it whole
                }
            }
        }
        return ids;
    }

    /** The generations of a VM's record ({@code vms/<id>.<n>.json}, and the legacy {@code vms/<id>.json}). */
    public List<Path> recordFiles(String id) throws IOException {
        Path vms = stateDir.resolve("vms");
        if (!Files.isDirectory(vms)) return List.of();
        try (Stream<Path> s = Files.list(vms)) {
            return s.filter(f -> f.getFileName().toString().startsWith(id + ".")).toList();
        }
    }

    @Override
    public void close() throws Exception {
        stop();
    }

    // ---------------------------------------------------------------- dom0 views

    public record Sh(int code, String out) {}

    public static Sh sh(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Sh(-1, out + "\n<timed out: " + script + ">");
        }
        return new Sh(p.exitValue(), out);
    }

    /** One row of {@code xl list}. */
    public record XlDomain(String name, int domid, String state) {
        public boolean paused() { return state.contains("p"); }
    }

    /** {@code xl list}, the xenops domains only, by VM id (the name is {@code xenops-<id>}). */
    public static Map<String, XlDomain> xlDomains() throws Exception {
        Sh r = sh("xl list");
        if (r.code() != 0) throw new AssertionError("xl list failed: " + r.out());
        Map<String, XlDomain> out = new LinkedHashMap<>();
        for (String line : r.out().lines().skip(1).toList()) {
            String[] c = line.trim().split("\\s+");
            if (c.length < 5 || !c[0].startsWith("xenops-")) continue;
            out.put(c[0].substring("xenops-".length()), new XlDomain(c[0], Integer.parseInt(c[1]), c[4]));
        }
        return out;
    }

    /** Every domain but dom0, by domid, named or not (a domain whose XenStore directory is gone has no name). */
    public static Set<Integer> xlDomids() throws Exception {
        Sh r = sh("xl list");
        if (r.code() != 0) throw new AssertionError("xl list failed: " + r.out());
        Set<Integer> out = new TreeSet<>();
        for (String line : r.out().lines().skip(1).toList()) {
            String[] c = line.trim().split("\\s+");
            if (c.length < 5 || c[0].equals("Domain-0")) continue;
            out.add(Integer.parseInt(c[1]));
        }
        return out;
    }

    public static boolean xenstoreExists(String path) throws Exception {
        return sh("xenstore-exists " + path).code() == 0;
    }

    public static Path consoleLog(String id) {
        return CONSOLE_LOGS.resolve("guest-xenops-" + id + ".log");
    }

    public static void eventually(Duration limit, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + limit);
            Thread.sleep(100);
        }
    }

    public static String tail(String text, int lines) {
        List<String> l = text.lines().toList();
        return String.join("\n", l.subList(Math.max(0, l.size() - lines), l.size()));
    }
}
