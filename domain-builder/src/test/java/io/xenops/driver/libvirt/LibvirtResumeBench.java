package io.xenops.driver.libvirt;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.Driver;
import io.xenops.driver.qemu.AccelChoice;
import io.xenops.driver.qemu.QemuConfig;
import io.xenops.driver.qemu.QemuDriver;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The libvirt driver's benchmark (a harness, not a test: timings on a shared machine are noise in a test
 * suite). In one run, on one machine, with the same unikernel and accelerator:
 *
 * <ul>
 *   <li>the floor: a raw QMP {@code cont} round trip on a paused QEMU of our own, over a blocking socket;</li>
 *   <li>the QEMU driver's {@code unpause()};</li>
 *   <li>the libvirt driver's {@code unpause()} (virDomainResume through libvirtd);</li>
 *   <li>both drivers' unpause + PING → PONG (a warm spawn's resume-to-ready), and create and destroy.</li>
 * </ul>
 *
 * Samples of the three resume paths are interleaved, so drift in the machine's load hits all three
 * alike. Writes its section of docs/benchmarks.md. Run from the repository root after
 * {@code mvn -pl domain-builder -am test-compile}:
 *
 * <pre>
 * mvn -q -pl domain-builder dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java --enable-native-access=ALL-UNNAMED -cp domain-builder/target/classes:domain-builder/target/test-classes:$(cat domain-builder/target/cp.txt) \
 *     io.xenops.driver.libvirt.LibvirtResumeBench [samples=500] [creates=30]
 * </pre>
 */
public final class LibvirtResumeBench {
    static final String BEGIN = "<!-- libvirt-bench:begin -->";
    static final String END = "<!-- libvirt-bench:end -->";
    private static final String PREFIX = "xbench-";

    private final ConcurrentHashMap<String, CompletableFuture<DomainEvent>> waiting = new ConcurrentHashMap<>();

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int creates = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        new LibvirtResumeBench().run(samples, creates);
    }

    /** One row of the table: a name and its samples in nanoseconds. */
    record Row(String what, long[] nanos) {
        long pct(double p) {
            long[] s = nanos.clone();
            Arrays.sort(s);
            int i = (int) Math.ceil(p / 100 * s.length) - 1;
            return s[Math.max(0, Math.min(s.length - 1, i))];
        }

        String markdown() {
            return String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f | %.3f | %.3f |", what, nanos.length,
                    pct(50) / 1e6, pct(90) / 1e6, pct(99) / 1e6, pct(100) / 1e6);
        }
    }

    private CompletableFuture<DomainEvent> expect(String key) {
        return waiting.computeIfAbsent(key, k -> new CompletableFuture<>());
    }

    private void onEvent(DomainEvent e) {
        if (e instanceof DomainEvent.GuestSaid g) {
            String key = switch (g.message()) {
                case GuestMessage.Ready r -> g.id() + "/READY";
                case GuestMessage.Pong p -> g.id() + "/PONG/" + p.token();
                default -> null;
            };
            if (key != null) expect(key).complete(e);
        }
    }

    private void run(int samples, int creates) throws Exception {
        Path work = Files.createTempDirectory(Path.of("/tmp"), "xlvb-");
        Path kernel = Unikernels.kernel("images", "hello", work.resolve("kernels"));
        List<Row> rows = new ArrayList<>();
        String accelLine;
        try (Libvirtd libvirtd = Libvirtd.start(work.resolve("logs"), PREFIX);
             LibvirtEventLoop loop = new LibvirtEventLoop()) {
            QemuDriver qemu = new QemuDriver(QemuConfig.defaults(work.resolve("qemu")).withProbeKernel(kernel));
            AccelChoice accel = qemu.accel();
            // The same accelerator for both drivers, or the comparison says nothing.
            LibvirtDriver libvirt = new LibvirtDriver(LibvirtConfig.defaults(Libvirtd.URI, work.resolve("libvirt")).withNamePrefix(PREFIX)
                    .withVirtType(accel.isKvm() ? LibvirtConfig.VirtType.KVM : LibvirtConfig.VirtType.QEMU), loop);
            accelLine = "QEMU driver `-accel " + accel.accel() + " -cpu " + accel.cpu() + "`; libvirt `<domain type='"
                    + libvirt.target().domainType() + "'>`, machine " + libvirt.target().machine();
            System.out.println(accelLine);
            qemu.setListener(this::onEvent);
            libvirt.setListener(this::onEvent);
            try (RawQemu raw = new RawQemu(work.resolve("raw"), kernel, accel)) {
                rows.addAll(measure(samples, creates, kernel, raw, qemu, libvirt));
            } finally {
                for (Driver d : List.of(qemu, libvirt)) {
                    for (var i : d.list()) d.destroy(i.id()).get(60, TimeUnit.SECONDS);
                    d.close();
                }
            }
        }
        write(rows, accelLine, samples, creates);
    }

    private List<Row> measure(int samples, int creates, Path kernel, RawQemu raw, QemuDriver qemu, LibvirtDriver libvirt) throws Exception {
        String q = "bench-q";
        String l = "bench-l";
        for (var e : List.of(java.util.Map.entry(qemu, q), java.util.Map.entry(libvirt, l))) {
            Driver d = e.getKey();
            String id = e.getValue();
            CompletableFuture<DomainEvent> ready = expect(id + "/READY");
            d.create(spec(id, kernel)).get(120, TimeUnit.SECONDS);
            d.unpause(id).get(60, TimeUnit.SECONDS);
            ready.get(120, TimeUnit.SECONDS);
            ping(d, id, "warm");
            d.pause(id).get(60, TimeUnit.SECONDS); // a pool member: booted to READY, paused
        }
        // Warm-up of every path measured below (JIT, libvirt's caches), not recorded.
        for (int i = 0; i < 50; i++) {
            raw.cont();
            raw.stop();
            qemu.unpause(q).get();
            qemu.pause(q).get();
            libvirt.unpause(l).get();
            libvirt.pause(l).get();
        }
        long[] rawCont = new long[samples];
        long[] qemuUnpause = new long[samples];
        long[] libvirtUnpause = new long[samples];
        for (int i = 0; i < samples; i++) {
            // Rotate the order so that no path always runs first after a pause.
            for (int k = 0; k < 3; k++) {
                switch ((i + k) % 3) {
                    case 0 -> {
                        long t = System.nanoTime();
                        raw.cont();
                        rawCont[i] = System.nanoTime() - t;
                        raw.stop();
                    }
                    case 1 -> {
                        long t = System.nanoTime();
                        qemu.unpause(q).get();
                        qemuUnpause[i] = System.nanoTime() - t;
                        qemu.pause(q).get();
                    }
                    default -> {
                        long t = System.nanoTime();
                        libvirt.unpause(l).get();
                        libvirtUnpause[i] = System.nanoTime() - t;
                        libvirt.pause(l).get();
                    }
                }
            }
        }
        int pings = Math.max(50, samples / 5);
        long[] qemuPing = new long[pings];
        long[] libvirtPing = new long[pings];
        for (int i = 0; i < pings; i++) {
            qemuPing[i] = resumeAndPing(qemu, q, "q" + i);
            libvirtPing[i] = resumeAndPing(libvirt, l, "l" + i);
        }
        long[] qemuCreate = new long[creates];
        long[] libvirtCreate = new long[creates];
        long[] qemuDestroy = new long[creates];
        long[] libvirtDestroy = new long[creates];
        for (int i = 0; i < creates; i++) {
            long[] a = createDestroy(qemu, "cq" + i, kernel);
            long[] b = createDestroy(libvirt, "cl" + i, kernel);
            qemuCreate[i] = a[0];
            qemuDestroy[i] = a[1];
            libvirtCreate[i] = b[0];
            libvirtDestroy[i] = b[1];
        }
        return List.of(
                new Row("floor: raw QMP `cont` round trip (own paused QEMU, blocking socket)", rawCont),
                new Row("QEMU driver `unpause()` (QMP `cont`)", qemuUnpause),
                new Row("libvirt driver `unpause()` (`virDomainResume` via libvirtd)", libvirtUnpause),
                new Row("QEMU driver: unpause + PING → PONG (booted, paused guest)", qemuPing),
                new Row("libvirt driver: unpause + PING → PONG (booted, paused guest)", libvirtPing),
                new Row("QEMU driver `create()` (process start → paused, console connected)", qemuCreate),
                new Row("libvirt driver `create()` (`virDomainCreateXML` paused → console connected)", libvirtCreate),
                new Row("QEMU driver `destroy()`", qemuDestroy),
                new Row("libvirt driver `destroy()` (`virDomainDestroy`)", libvirtDestroy));
    }

    private long resumeAndPing(Driver d, String id, String token) throws Exception {
        CompletableFuture<DomainEvent> pong = expect(id + "/PONG/" + token);
        long t = System.nanoTime();
        d.unpause(id).get();
        d.send(id, new GuestCommand.Ping(token)).get();
        long took = pong.get(60, TimeUnit.SECONDS).nanoTime() - t;
        d.pause(id).get();
        return took;
    }

    private long[] createDestroy(Driver d, String id, Path kernel) throws Exception {
        long t0 = System.nanoTime();
        d.create(spec(id, kernel)).get(120, TimeUnit.SECONDS);
        long t1 = System.nanoTime();
        d.destroy(id).get(60, TimeUnit.SECONDS);
        long t2 = System.nanoTime();
        return new long[] {t1 - t0, t2 - t1};
    }

    private void ping(Driver d, String id, String token) throws Exception {
        CompletableFuture<DomainEvent> pong = expect(id + "/PONG/" + token);
        d.send(id, new GuestCommand.Ping(token)).get();
        pong.get(60, TimeUnit.SECONDS);
    }

    private static DomainSpec spec(String id, Path kernel) {
        return new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id);
    }

    private static void write(List<Row> rows, String accelLine, int samples, int creates) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(BEGIN).append('\n');
        sb.append("## libvirt driver: warm resume against the QEMU driver and the raw QMP floor\n\n");
        sb.append("Measured ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append(" on `")
                .append(InetAddress.getLocalHost().getHostName()).append("` (").append(machine()).append("), one run of ")
                .append("`io.xenops.driver.libvirt.LibvirtResumeBench` (see docs/libvirt-driver.md), the hello unikernel, ")
                .append(accelLine).append(", libvirt ").append(libvirtVersion()).append(". The three resume rows interleave their ")
                .append(samples).append(" samples each (rotated order, each followed by a pause); create/destroy: ")
                .append(creates).append(" each. Caller's round trip (`.get()`) in milliseconds. Load average at the end: ")
                .append(loadAverage()).append(".\n\n");
        sb.append("| what | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n");
        for (Row r : rows) sb.append(r.markdown()).append('\n');
        Row floor = rows.get(0), qemu = rows.get(1), libvirt = rows.get(2);
        sb.append(String.format(Locale.ROOT, "%nlibvirt resume p50 is %.3f ms above the QEMU driver's and %.3f ms above the raw `cont` floor "
                        + "(p99: %.3f and %.3f ms above).%n", (libvirt.pct(50) - qemu.pct(50)) / 1e6, (libvirt.pct(50) - floor.pct(50)) / 1e6,
                (libvirt.pct(99) - qemu.pct(99)) / 1e6, (libvirt.pct(99) - floor.pct(99)) / 1e6));
        sb.append(END).append('\n');
        Path doc = Unikernels.root().resolve("docs/benchmarks.md");
        String text = Files.exists(doc) ? Files.readString(doc) : "# Benchmarks\n\n";
        int b = text.indexOf(BEGIN), e = text.indexOf(END);
        text = b >= 0 && e > b ? text.substring(0, b) + sb + text.substring(Math.min(text.length(), e + END.length() + 1))
                : text + (text.endsWith("\n\n") ? "" : "\n") + sb;
        Files.writeString(doc, text);
        System.out.println(sb);
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException ignored) {
            // informative only
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java " + Runtime.version();
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static String libvirtVersion() {
        try {
            long v = org.libvirt.Library.getVersion();
            return (v / 1_000_000) + "." + (v / 1000 % 1000) + "." + (v % 1000);
        } catch (Exception e) {
            return "?";
        }
    }

    /**
     * The floor: one paused QEMU with the QEMU driver's machine, driven over a blocking QMP socket with
     * the fewest bytes possible. No JSON library, no threads.
     */
    static final class RawQemu implements AutoCloseable {
        private final Process process;
        private final SocketChannel qmp;
        private final ByteBuffer buf = ByteBuffer.allocate(65536);

        RawQemu(Path dir, Path kernel, AccelChoice accel) throws Exception {
            Files.createDirectories(dir);
            Path sock = dir.resolve("qmp.sock");
            process = new ProcessBuilder(List.of("qemu-system-x86_64", "-M", QemuConfig.DEFAULT_MACHINE, "-no-reboot", "-S",
                    "-nodefaults", "-nographic", "-nic", "none", "-m", "4", "-accel", accel.accel(), "-cpu", accel.cpu(),
                    "-kernel", kernel.toString(), "-append", "xenops.id=raw", "-serial", "null",
                    "-qmp", "unix:" + sock + ",server=on,wait=off"))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(sock)) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("raw QEMU did not start: " + Files.readString(dir.resolve("qemu.log")));
                }
                Thread.sleep(5);
            }
            qmp = SocketChannel.open(StandardProtocolFamily.UNIX);
            qmp.connect(UnixDomainSocketAddress.of(sock));
            readUntil("QMP");
            command("{\"execute\":\"qmp_capabilities\"}");
        }

        void cont() throws IOException {
            command("{\"execute\":\"cont\"}");
        }

        void stop() throws IOException {
            command("{\"execute\":\"stop\"}");
        }

        private void command(String json) throws IOException {
            qmp.write(ByteBuffer.wrap((json + "\r\n").getBytes(StandardCharsets.US_ASCII)));
            readUntil("\"return\"");
        }

        /** Reads until a line containing the marker; events (STOP, RESUME) in between are skipped. */
        private void readUntil(String marker) throws IOException {
            while (true) {
                String s = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);
                int nl;
                while ((nl = s.indexOf('\n')) >= 0) {
                    String line = s.substring(0, nl);
                    s = s.substring(nl + 1);
                    byte[] rest = s.getBytes(StandardCharsets.US_ASCII);
                    buf.clear();
                    buf.put(rest);
                    if (line.contains(marker)) return;
                }
                if (qmp.read(buf) < 0) throw new IOException("QMP closed before " + marker);
            }
        }

        @Override
        public void close() throws Exception {
            try {
                qmp.close();
            } finally {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
