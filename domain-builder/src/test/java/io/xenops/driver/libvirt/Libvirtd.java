package io.xenops.driver.libvirt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real libvirtd with the QEMU driver for the integration tests, brought up on this machine the way
 * ../shared/ENVIRONMENT.md describes (there is no systemd): packages installed with apt-get when we are
 * root, {@code qemu.conf} set to run QEMU as root without a security driver, then virtlogd and libvirtd
 * started as children of this JVM so that the tests can stop and reap them.
 *
 * <p>When a libvirtd already answers on {@code qemu:///system} it is used as is and left running. Whatever
 * cannot be set up is a test failure with the reason, never a skip.
 */
public final class Libvirtd implements AutoCloseable {
    public static final String URI = "qemu:///system";
    static final List<String> PACKAGES = List.of("libvirt-daemon", "libvirt-daemon-driver-qemu", "libvirt-clients");
    private static final Path QEMU_CONF = Path.of("/etc/libvirt/qemu.conf");
    private static final List<String> QEMU_CONF_SETTINGS = List.of("user = \"root\"", "group = \"root\"", "security_driver = \"none\"");

    private final Path logDir;
    private final String domainPrefix;
    private Process virtlogd;
    private Process libvirtd;

    private Libvirtd(Path logDir, String domainPrefix) {
        this.logDir = logDir;
        this.domainPrefix = domainPrefix;
    }

    /**
     * Makes sure a libvirtd answers on {@link #URI}.
     *
     * @param domainPrefix names of the domains the tests create; {@link #close()} destroys any left over
     */
    public static Libvirtd start(Path logDir, String domainPrefix) throws Exception {
        Libvirtd l = new Libvirtd(logDir, domainPrefix);
        Files.createDirectories(logDir);
        installPackages();
        if (answers(Duration.ofSeconds(10))) return l; // someone else's libvirtd: use it, leave it running
        l.startDaemons();
        return l;
    }

    /** True when this fixture started libvirtd itself (and so may restart it). */
    boolean ownsDaemon() {
        return libvirtd != null;
    }

    /** Stops and starts libvirtd (domains keep running: libvirtd reattaches to them). */
    void restartDaemon() throws Exception {
        if (libvirtd == null) throw new IllegalStateException("libvirtd was not started by the tests");
        stop(libvirtd, "libvirtd");
        libvirtd = spawn(List.of("libvirtd"), "libvirtd-2");
        awaitAnswer(libvirtd, "libvirtd");
    }

    private static void installPackages() throws Exception {
        List<String> missing = new ArrayList<>();
        for (String p : PACKAGES) {
            Cmd r = Cmd.run(Duration.ofSeconds(30), "dpkg-query", "-W", "-f=${Status}", p);
            if (!r.out().contains("install ok installed")) missing.add(p);
        }
        if (missing.isEmpty()) return;
        if (!isRoot()) {
            throw new AssertionError("libvirt is not installed and the tests are not root: sudo apt-get install " + String.join(" ", missing));
        }
        List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "-qq"));
        install.addAll(missing);
        Cmd r = Cmd.run(Duration.ofMinutes(10), install.toArray(String[]::new));
        if (r.code() != 0) {
            Cmd.run(Duration.ofMinutes(5), "apt-get", "update", "-qq");
            r = Cmd.run(Duration.ofMinutes(10), install.toArray(String[]::new));
        }
        if (r.code() != 0) throw new AssertionError("cannot install " + missing + " with apt-get: " + r.out());
    }

    private void startDaemons() throws Exception {
        if (!isRoot()) throw new AssertionError("no libvirtd answers on " + URI + ", and only root can start one here");
        configure();
        if (!Files.exists(Path.of("/run/libvirt/virtlogd-sock")) || !processNamed("virtlogd")) {
            virtlogd = spawn(List.of("virtlogd"), "virtlogd");
        }
        libvirtd = spawn(List.of("libvirtd"), "libvirtd");
        awaitAnswer(libvirtd, "libvirtd");
    }

    /** ENVIRONMENT.md's recipe: the QEMU user and group exist, QEMU runs as root, no security driver. */
    private static void configure() throws Exception {
        Files.createDirectories(Path.of("/var/log/libvirt"));
        if (Cmd.run(Duration.ofSeconds(10), "getent", "group", "libvirt-qemu").code() != 0) {
            Cmd.run(Duration.ofSeconds(30), "groupadd", "-r", "libvirt-qemu");
        }
        if (Cmd.run(Duration.ofSeconds(10), "getent", "passwd", "libvirt-qemu").code() != 0) {
            Cmd.run(Duration.ofSeconds(30), "useradd", "-r", "-g", "libvirt-qemu", "-d", "/var/lib/libvirt", "-s", "/usr/sbin/nologin", "libvirt-qemu");
        }
        List<String> lines = Files.exists(QEMU_CONF) ? new ArrayList<>(Files.readAllLines(QEMU_CONF)) : new ArrayList<>();
        if (lines.containsAll(QEMU_CONF_SETTINGS)) return;
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String key = line.strip().split("[ =]", 2)[0];
            boolean ours = QEMU_CONF_SETTINGS.stream().anyMatch(s -> s.startsWith(key + " ")) && !line.strip().startsWith("#");
            out.add(ours ? "#" + line : line); // one value per key: comment out the old one
        }
        out.add("# set by the xenops libvirt driver tests (../shared/ENVIRONMENT.md)");
        out.addAll(QEMU_CONF_SETTINGS);
        Files.createDirectories(QEMU_CONF.getParent());
        Files.write(QEMU_CONF, out);
    }

    private Process spawn(List<String> argv, String name) throws IOException {
        Path log = logDir.resolve(name + ".log");
        return new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private void awaitAnswer(Process p, String name) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new AssertionError(name + " exited with " + p.exitValue() + ": " + tail(logDir.resolve(name + ".log")));
            if (answers(Duration.ofSeconds(10))) return;
            Thread.sleep(200);
        }
        throw new AssertionError(name + " did not answer on " + URI + " within 60 s: " + tail(logDir.resolve(name + ".log")));
    }

    private static boolean answers(Duration timeout) throws Exception {
        return Cmd.run(timeout, "virsh", "-c", URI, "uri").code() == 0;
    }

    /** Destroys leftover test domains, stops the daemons it started, and kills any test QEMU still alive. */
    @Override
    public void close() throws Exception {
        try {
            Cmd names = Cmd.run(Duration.ofSeconds(30), "virsh", "-c", URI, "list", "--name");
            for (String n : names.out().split("\n")) {
                if (n.strip().startsWith(domainPrefix)) Cmd.run(Duration.ofSeconds(30), "virsh", "-c", URI, "destroy", n.strip());
            }
        } finally {
            if (libvirtd != null) stop(libvirtd, "libvirtd");
            if (virtlogd != null) stop(virtlogd, "virtlogd");
            for (long pid : qemuPids(domainPrefix)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    private static void stop(Process p, String name) throws InterruptedException {
        p.destroy(); // SIGTERM: libvirtd leaves domains running, which is why they were destroyed first
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Pids of QEMU processes that libvirt started for domains named with the prefix. */
    public static List<Long> qemuPids(String domainPrefix) throws IOException {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                if (!f.chars().allMatch(Character::isDigit)) continue;
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    // libvirtd finds QEMU on its PATH: /usr/bin/qemu-system-x86_64, or /bin/... where /bin comes first.
                    String exe = cmd.split("\0", 2)[0];
                    if (exe.substring(exe.lastIndexOf('/') + 1).startsWith("qemu-system") && cmd.contains("guest=" + domainPrefix)) {
                        out.add(Long.parseLong(f));
                    }
                } catch (IOException ignored) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    private static boolean processNamed(String comm) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : ds) {
                try {
                    if (Files.readString(p.resolve("comm")).strip().equals(comm)) return true;
                } catch (IOException ignored) {
                    // not a process, or gone
                }
            }
        }
        return false;
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** A short command, its exit code and its output. */
    record Cmd(int code, String out) {
        static Cmd run(Duration timeout, String... argv) throws IOException, InterruptedException {
            // Output to a file, not a pipe: reading a pipe would wait for EOF, past any timeout.
            Path out = Files.createTempFile("xenops-cmd-", ".out");
            try {
                ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile());
                pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
                Process p;
                try {
                    p = pb.start();
                } catch (IOException e) {
                    return new Cmd(127, argv[0] + ": " + e.getMessage());
                }
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    p.waitFor();
                    return new Cmd(124, Files.readString(out) + " (timed out)");
                }
                return new Cmd(p.exitValue(), Files.readString(out));
            } finally {
                Files.deleteIfExists(out);
            }
        }
    }
}
