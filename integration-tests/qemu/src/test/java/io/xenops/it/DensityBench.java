package io.xenops.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Density and pool refill on the QEMU driver: the load generator is this JVM, a second process that talks to
 * the real xenopsd over loopback HTTP, bounded in count (every loop has a fixed number of requests) and in
 * time (every request and every wait has a deadline).
 *
 * <ul>
 *   <li>{@link #density}: one warm pool filled to each step (10, 100, 1000 ...). At each step: host memory per
 *       paused VM (PSS of every QEMU from /proc/PID/smaps_rollup), the daemon's RSS, file descriptors and
 *       threads, QEMU threads, and warm spawn latency while the pool stays at the step's size (spawn, destroy,
 *       wait for the refill, again).</li>
 *   <li>{@link #refill}: spawns offered at a fixed rate (open loop: a request is sent every 1/rate s whatever
 *       the earlier ones are doing) against a pool with cold spawns off, so once the refill cannot keep up
 *       the pool runs dry and the excess gets 503. Reports VMs built per second and latency per offered rate.</li>
 * </ul>
 *
 * Short forms run in CI from {@code DensityShortTest}; the long ones from {@code ./xenops bench density}.
 */
public final class DensityBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String BEGIN = "<!-- density-bench:begin -->";
    static final String END = "<!-- density-bench:end -->";

    /** One density step. Memory in KiB; latency in {@link Stats} (microseconds). */
    record DensityRow(int vms, long qemuPssKiB, long qemuAnonKiB, long qemuRssKiB, long daemonRssKiB, int daemonFds,
                      int daemonThreads, int qemuThreads, int built, double fillSeconds, Stats warmSpawn, Set<String> ids) {
        double pssPerVmMiB() { return qemuPssKiB / 1024.0 / vms; }
        double anonPerVmMiB() { return qemuAnonKiB / 1024.0 / vms; }
        double rssPerVmMiB() { return qemuRssKiB / 1024.0 / vms; }
        /** The fill's rate: VMs built from the previous step to this one, per second. */
        double builtPerSecond() { return built / fillSeconds; }
    }

    /** What the daemon held before any VM existed and after the last one was destroyed. */
    record Baseline(int fdsBefore, int fdsAfter, int qemusAfter, int vmsListedAfter) {}

    record DensityRun(List<DensityRow> rows, Baseline baseline, String accel) {}

    /** One offered rate. {@code built} counts pool builds finished inside the window. */
    record RefillRow(double offeredPerSecond, double seconds, int offered, int warm, int unavailable, int other,
                     int built, Stats warmLatency, int readyAtEnd) {
        double builtPerSecond() { return built / seconds; }
        double servedPerSecond() { return warm / seconds; }
    }

    private final DaemonProcess daemon;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).executor(Executors.newVirtualThreadPerTaskExecutor()).build();

    DensityBench(DaemonProcess daemon) {
        this.daemon = daemon;
    }

    // ---------------------------------------------------------------- density

    DensityRun density(List<Integer> steps, int samples) throws Exception {
        String accel = daemon.json("GET", "/v1/health", null, 200).get("accel").asText();
        int fdsBefore = fds(daemon.pid());
        List<DensityRow> rows = new ArrayList<>();
        int previous = 0;
        for (int n : steps) {
            long t0 = System.nanoTime();
            setTarget(n);
            // 1000 VMs at a few builds per second on a loaded 2-core host: allow 2 s per VM. Polled slowly, so
            // the poll itself is not load on the daemon.
            long deadline = System.nanoTime() + Duration.ofSeconds(Math.max(120, 2L * n)).toNanos();
            while (daemon.poolReady("hello") < n) {
                if (System.nanoTime() > deadline) throw new AssertionError("pool not filled to " + n + ": " + pool());
                long avail = memAvailableMiB();
                if (avail < MIN_AVAILABLE_MIB) {
                    // A shared host: stop before the kernel's OOM killer picks someone else's process.
                    setTarget(0);
                    throw new AssertionError("host MemAvailable fell to " + avail + " MiB at " + daemon.poolReady("hello")
                            + " paused VMs; stopped the fill (need about 10.5 MiB per VM)");
                }
                Thread.sleep(250);
            }
            double fill = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(2000); // let the last builds' short-lived memory go before measuring
            List<Qemus.Proc> qemus = Qemus.mentioning(daemon.stateDir.toString());
            if (qemus.size() != n) throw new AssertionError("pool says " + n + " ready, but " + qemus.size() + " QEMUs run");
            long pss = 0, anon = 0, rss = 0;
            int qemuThreads = 0;
            for (Qemus.Proc q : qemus) {
                Map<String, Long> m = rollup(q.pid());
                pss += m.getOrDefault("Pss", 0L);
                anon += m.getOrDefault("Pss_Anon", 0L);
                rss += m.getOrDefault("Rss", 0L);
                qemuThreads += threads(q.pid());
            }
            long daemonRss = rollup(daemon.pid()).getOrDefault("Rss", 0L);
            int fds = fds(daemon.pid());
            int threads = threads(daemon.pid());
            long[] lat = new long[samples];
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < samples; i++) {
                waitReady(n, Duration.ofSeconds(120));
                long s = System.nanoTime();
                HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\",\"wait\":\"running\"}");
                lat[i] = System.nanoTime() - s;
                if (r.statusCode() != 201) throw new AssertionError("spawn at " + n + " answered " + r.statusCode() + " " + r.body());
                JsonNode vm = JSON.readTree(r.body());
                if (!"warm".equals(vm.at("/timings/path").asText())) throw new AssertionError("not warm at " + n + ": " + vm);
                String id = vm.get("id").asText();
                if (!ids.add(id)) throw new AssertionError("id " + id + " handed out twice");
                daemon.json("DELETE", "/v1/vms/" + id, null, 204);
            }
            DensityRow row = new DensityRow(n, pss, anon, rss, daemonRss, fds, threads, qemuThreads, n - previous, fill,
                    Stats.of("warm@" + n, lat), ids);
            System.out.println(summary(row));
            rows.add(row);
            previous = n;
        }
        setTarget(0);
        DaemonProcess.eventually(Duration.ofSeconds(Math.max(60, steps.stream().mapToInt(i -> i).max().orElse(0) / 5)),
                () -> Qemus.mentioning(daemon.stateDir.toString()).isEmpty());
        int listed = daemon.json("GET", "/v1/vms", null, 200).get("vms").size();
        // Sockets close a moment after the processes are gone.
        DaemonProcess.eventually(Duration.ofSeconds(30), () -> fdsOrMax(daemon.pid()) <= fdsBefore + 10);
        return new DensityRun(rows, new Baseline(fdsBefore, fds(daemon.pid()), Qemus.mentioning(daemon.stateDir.toString()).size(),
                listed), accel);
    }

    static String summary(DensityRow r) {
        return String.format("density %d VMs: PSS %.2f MiB/VM (anon %.2f, RSS %.2f), daemon RSS %.1f MiB, fds %d, threads %d, "
                        + "QEMU threads %.1f/VM, fill %.1f s (%.1f VMs/s), warm spawn p50 %.2f ms p99 %.2f ms (n=%d)",
                r.vms(), r.pssPerVmMiB(), r.anonPerVmMiB(), r.rssPerVmMiB(), r.daemonRssKiB() / 1024.0, r.daemonFds(),
                r.daemonThreads(), (double) r.qemuThreads() / r.vms(), r.fillSeconds(), r.builtPerSecond(),
                r.warmSpawn().p50() / 1000, r.warmSpawn().p99() / 1000, r.warmSpawn().n());
    }

    // ---------------------------------------------------------------- refill

    /**
     * For each offered rate: wait for a full pool of {@code target}, then send {@code rate} spawns a second for
     * {@code seconds}, destroying each VM as soon as it is answered. Needs a daemon with cold spawns off.
     */
    List<RefillRow> refill(int target, List<Double> rates, double seconds) throws Exception {
        setTarget(target);
        List<RefillRow> rows = new ArrayList<>();
        for (double rate : rates) {
            waitReady(target, Duration.ofSeconds(Math.max(120, 3L * target)));
            JsonNode before = pool();
            int offered = (int) Math.round(rate * seconds);
            long period = (long) (1e9 / rate);
            List<Long> warmLat = Collections.synchronizedList(new ArrayList<>());
            Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
            Set<String> ids = ConcurrentHashMap.newKeySet();
            List<String> duplicates = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            JsonNode after;
            double sentWindow;
            try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < offered; i++) {
                    long due = t0 + i * period;
                    long wait = due - System.nanoTime();
                    if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                    fs.add(ex.submit(() -> {
                        long s = System.nanoTime();
                        HttpResponse<String> r = post("/v1/vms", "{\"image\":\"hello\",\"wait\":\"running\"}");
                        long l = System.nanoTime() - s;
                        String key = Integer.toString(r.statusCode());
                        if (r.statusCode() == 201) {
                            JsonNode vm = JSON.readTree(r.body());
                            String id = vm.get("id").asText();
                            if (!ids.add(id)) duplicates.add(id);
                            key = vm.at("/timings/path").asText();
                            if (key.equals("warm")) warmLat.add(l);
                            daemon.call("DELETE", "/v1/vms/" + id, null);
                        }
                        outcomes.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                        return null;
                    }));
                }
                // The window ends when the last request is sent; builds finished by then count.
                after = pool();
                sentWindow = (System.nanoTime() - t0) / 1e9;
                for (Future<?> f : fs) f.get(2, TimeUnit.MINUTES);
            }
            if (!duplicates.isEmpty()) throw new AssertionError("ids handed out twice: " + duplicates);
            int warm = count(outcomes, "warm"), u = count(outcomes, "503");
            int other = offered - warm - u;
            if (other != 0) throw new AssertionError("unexpected answers at " + rate + "/s: " + outcomes);
            int warmInWindow = after.get("spawned_warm").asInt() - before.get("spawned_warm").asInt();
            int built = after.get("ready").asInt() - before.get("ready").asInt() + warmInWindow;
            long[] wl = warmLat.stream().mapToLong(Long::longValue).toArray();
            RefillRow row = new RefillRow(rate, sentWindow, offered, warm, u, other, built,
                    wl.length == 0 ? new Stats("warm", 0, 0, 0, 0, 0) : Stats.of("warm@" + rate, wl), after.get("ready").asInt());
            System.out.printf("refill offered %.1f/s for %.0f s: %d warm, %d 503, built %d (%.2f/s), warm p50 %.1f ms p99 %.1f ms, ready at end %d%n",
                    rate, seconds, warm, u, built, row.builtPerSecond(), row.warmLatency().p50() / 1000,
                    row.warmLatency().p99() / 1000, row.readyAtEnd());
            rows.add(row);
        }
        return rows;
    }

    // ---------------------------------------------------------------- storm (raw sockets)

    /** One request of a storm: when its bytes went out, when the status line and the whole answer came back. */
    record Shot(int status, String path, String id, long sentNanos, long firstByteNanos, long doneNanos) {}

    record StormRow(int pool, int requests, boolean warmedUp, int warm, int cold, int unavailable, int other, int distinctIds,
                    Stats all, Map<String, Stats> byOutcome, double wallMs, double daemonCpuMs, String load) {}

    /**
     * {@code n} concurrent spawns against a full pool of {@code pool}, over raw HTTP/1.1 sockets that are all
     * connected before the start, so connection set-up and the client's HTTP stack are not in the numbers:
     * a request's time runs from its last byte written to its answer's last byte read. With {@code warmUp} the
     * daemon first answers {@code warmUp} requests on the same path (spawns of an unknown image, 404), so the
     * JIT has compiled the request path before the storm.
     */
    StormRow storm(int pool, int n, int warmUp) throws Exception {
        setTarget(pool);
        waitReady(pool, Duration.ofSeconds(Math.max(120, 3L * pool)));
        for (int i = 0; i < warmUp; i++) {
            HttpResponse<String> r = post("/v1/vms", "{\"image\":\"no-such-image\",\"wait\":\"running\"}");
            if (r.statusCode() != 404) throw new AssertionError("warm-up spawn answered " + r.statusCode() + " " + r.body());
        }
        Thread.sleep(1000);
        byte[] body = "{\"image\":\"hello\",\"wait\":\"running\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] req = ("POST /v1/vms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n" + new String(body, java.nio.charset.StandardCharsets.US_ASCII))
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int port = Integer.parseInt(daemon.url().substring(daemon.url().lastIndexOf(':') + 1));
        List<java.net.Socket> sockets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            java.net.Socket so = new java.net.Socket();
            so.setTcpNoDelay(true);
            so.connect(new java.net.InetSocketAddress("127.0.0.1", port), 10_000);
            so.setSoTimeout(120_000);
            sockets.add(so);
        }
        double cpu0 = cpuMillis(daemon.pid());
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<Shot> shots = Collections.synchronizedList(new ArrayList<>());
        long t0;
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (java.net.Socket so : sockets) {
                fs.add(ex.submit(() -> {
                    try (so) {
                        go.await();
                        var out = so.getOutputStream();
                        out.write(req);
                        out.flush();
                        long sent = System.nanoTime();
                        var in = so.getInputStream();
                        int first = in.read();
                        long firstAt = System.nanoTime();
                        if (first < 0) throw new AssertionError("connection closed without an answer");
                        byte[] rest = in.readAllBytes();
                        long done = System.nanoTime();
                        String text = (char) first + new String(rest, java.nio.charset.StandardCharsets.UTF_8);
                        int status = Integer.parseInt(text.substring(9, 12));
                        String payload = text.substring(text.indexOf("\r\n\r\n") + 4);
                        String path = Integer.toString(status), id = null;
                        if (status == 201) {
                            JsonNode vm = JSON.readTree(payload);
                            id = vm.get("id").asText();
                            path = vm.at("/timings/path").asText();
                        }
                        shots.add(new Shot(status, path, id, sent, firstAt, done));
                    }
                    return null;
                }));
            }
            Thread.sleep(200); // every thread parked on the latch
            t0 = System.nanoTime();
            go.countDown();
            for (Future<?> f : fs) f.get(3, TimeUnit.MINUTES);
        }
        double wall = (System.nanoTime() - t0) / 1e6;
        double cpu = cpuMillis(daemon.pid()) - cpu0;
        Map<String, List<Long>> by = new TreeMap<>();
        List<String> ids = new ArrayList<>();
        for (Shot s : shots) {
            by.computeIfAbsent(s.path(), k -> new ArrayList<>()).add(s.doneNanos() - s.sentNanos());
            if (s.id() != null) ids.add(s.id());
        }
        Map<String, Stats> byOutcome = new TreeMap<>();
        by.forEach((k, l) -> byOutcome.put(k, Stats.of(k, l.stream().mapToLong(Long::longValue).toArray())));
        int warm = by.getOrDefault("warm", List.of()).size(), cold = by.getOrDefault("cold", List.of()).size();
        int u = by.getOrDefault("503", List.of()).size();
        StormRow row = new StormRow(pool, n, warmUp > 0, warm, cold, u, n - warm - cold - u, new HashSet<>(ids).size(),
                Stats.of("all", shots.stream().mapToLong(s -> s.doneNanos() - s.sentNanos()).toArray()), byOutcome, wall, cpu, load());
        if (shots.size() != n) throw new AssertionError("answered " + shots.size() + " of " + n);
        if (new HashSet<>(ids).size() != ids.size()) throw new AssertionError("an id was handed out twice: " + row);
        int listed = daemon.json("GET", "/v1/vms", null, 200).get("vms").size();
        if (listed != ids.size()) throw new AssertionError("listed " + listed + " VMs, clients got " + ids.size());
        for (String id : ids) daemon.call("DELETE", "/v1/vms/" + id, null);
        System.out.println(stormSummary(row));
        return row;
    }

    static String stormSummary(StormRow r) {
        StringBuilder sb = new StringBuilder(String.format("storm %d vs pool %d (warm-up %s): warm %d, cold %d, 503 %d, other %d, "
                        + "distinct ids %d, wall %.0f ms, daemon CPU %.0f ms, load %s", r.requests(), r.pool(), r.warmedUp(), r.warm(),
                r.cold(), r.unavailable(), r.other(), r.distinctIds(), r.wallMs(), r.daemonCpuMs(), r.load()));
        r.byOutcome().forEach((k, st) -> sb.append(String.format("; %s p50 %.1f p90 %.1f p99 %.1f max %.1f ms", k, st.p50() / 1000,
                st.p90() / 1000, st.p99() / 1000, st.max() / 1000)));
        return sb.toString();
    }

    /** utime + stime of a process, from /proc/PID/stat, in milliseconds (USER_HZ 100). */
    static double cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0;
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    private static int count(Map<String, AtomicInteger> m, String k) {
        AtomicInteger v = m.get(k);
        return v == null ? 0 : v.get();
    }

    // ---------------------------------------------------------------- plumbing

    private static final long MIN_AVAILABLE_MIB = Long.getLong("density.min.available.mib", 1536);

    static long memAvailableMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (Exception e) {
            // unknown: do not stop
        }
        return Long.MAX_VALUE;
    }

    private void setTarget(int n) throws Exception {
        daemon.json("PUT", "/v1/pools/hello", "{\"target\":" + n + "}", 200);
    }

    private JsonNode pool() throws Exception {
        return daemon.json("GET", "/v1/pools/hello", null, 200);
    }

    private void waitReady(int n, Duration limit) throws InterruptedException {
        DaemonProcess.eventually(limit, () -> daemon.poolReady("hello") >= n);
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(daemon.url() + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static int fds(long pid) throws Exception {
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) s.count();
        }
    }

    private static int fdsOrMax(long pid) {
        try {
            return fds(pid);
        } catch (Exception e) {
            return Integer.MAX_VALUE;
        }
    }

    static int threads(long pid) {
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return (int) s.count();
        } catch (Exception e) {
            return 0; // the process ended while we counted
        }
    }

    /** kB fields of /proc/PID/smaps_rollup (empty if the process is gone). */
    static Map<String, Long> rollup(long pid) {
        Map<String, Long> m = new TreeMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
                String[] p = line.trim().split("\\s+");
                if (p.length == 3 && p[0].endsWith(":") && p[2].equals("kB")) m.put(p[0].substring(0, p[0].length() - 1), Long.parseLong(p[1]));
            }
        } catch (Exception e) {
            // gone
        }
        return m;
    }

    static String load() {
        try {
            String[] l = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return l[0] + " / " + l[1] + " / " + l[2];
        } catch (Exception e) {
            return "?";
        }
    }

    // ---------------------------------------------------------------- main (./xenops bench density)

    public static void main(String[] args) throws Exception {
        DaemonProcess.requireBuilt();
        List<Integer> steps = new ArrayList<>();
        for (String s : System.getProperty("density.steps", "10,100,1000").split(",")) steps.add(Integer.parseInt(s.trim()));
        int samples = Integer.getInteger("density.samples", 50);
        List<Double> rates = new ArrayList<>();
        for (String s : System.getProperty("density.rates", "1,2,4,8,16").split(",")) rates.add(Double.parseDouble(s.trim()));
        double seconds = Double.parseDouble(System.getProperty("density.seconds", "20"));
        int refillPool = Integer.getInteger("density.refill.pool", 20);
        String what = System.getProperty("density.what", "density,refill");
        String extra = System.getProperty("density.daemon.args", "");
        List<String> out = new ArrayList<>();
        String host = java.net.InetAddress.getLocalHost().getHostName();
        out.add("Measured " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + " on `" + host + "` ("
                + Runtime.getRuntime().availableProcessors() + " cores), load average (1/5/15 min) at start " + load() + ".");
        if (what.contains("density")) {
            int max = steps.stream().mapToInt(Integer::intValue).max().orElseThrow();
            Path state = Files.createTempDirectory(Path.of("/tmp"), "xodens-");
            List<String> args2 = new ArrayList<>(List.of("--pool", "hello=0,*=0", "--max-vms", Integer.toString(max + 20)));
            if (!extra.isBlank()) args2.addAll(List.of(extra.trim().split("\\s+")));
            DensityRun run;
            try (DaemonProcess d = new DaemonProcess(state, args2)) {
                d.start(); // inside the try: a start that times out still stops the process
                run = new DensityBench(d).density(steps, samples);
            } finally {
                Qemus.killAll(state.toString());
            }
            out.add("");
            out.add("Density (accel " + run.accel() + "): paused `hello` VMs (4 MiB guests) in one warm pool; warm spawn = `POST /v1/vms` "
                    + "wait=running with the pool at that size (each sample waits for the refill first), " + samples
                    + " samples per step; load average at the end " + load() + ".");
            out.add("");
            out.add("| paused VMs | QEMU PSS MiB/VM | of it anon | QEMU RSS MiB/VM | QEMU threads/VM | daemon RSS MiB | daemon fds | daemon threads | fill s | built/s | warm spawn p50 ms | p99 ms |");
            out.add("|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (DensityRow r : run.rows()) {
                out.add(String.format("| %d | %.2f | %.2f | %.2f | %.1f | %.1f | %d | %d | %.1f | %.1f | %.2f | %.2f |", r.vms(),
                        r.pssPerVmMiB(), r.anonPerVmMiB(), r.rssPerVmMiB(), (double) r.qemuThreads() / r.vms(),
                        r.daemonRssKiB() / 1024.0, r.daemonFds(), r.daemonThreads(), r.fillSeconds(), r.builtPerSecond(),
                        r.warmSpawn().p50() / 1000, r.warmSpawn().p99() / 1000));
            }
            out.add("");
            out.add("After the pool was set to 0: " + run.baseline().qemusAfter() + " QEMUs left, " + run.baseline().vmsListedAfter()
                    + " VMs listed, daemon fds " + run.baseline().fdsAfter() + " (before the first VM: " + run.baseline().fdsBefore() + ").");
        }
        if (what.contains("refill")) {
            Path state = Files.createTempDirectory(Path.of("/tmp"), "xorefill-");
            List<String> args2 = new ArrayList<>(List.of("--pool", "hello=0,*=0", "--cold-spawn", "false", "--max-vms", "400"));
            if (!extra.isBlank()) args2.addAll(List.of(extra.trim().split("\\s+")));
            List<RefillRow> rows;
            try (DaemonProcess d = new DaemonProcess(state, args2)) {
                d.start(); // inside the try: a start that times out still stops the process
                rows = new DensityBench(d).refill(refillPool, rates, seconds);
            } finally {
                Qemus.killAll(state.toString());
            }
            out.add("");
            out.add("Refill: pool of " + refillPool + ", `--cold-spawn false`, spawns offered at a fixed rate for " + (int) seconds
                    + " s each (open loop), every VM destroyed once answered; load average at the end " + load() + ".");
            out.add("");
            out.add("| offered /s | sent | warm | 503 | built | built/s | warm p50 ms | warm p99 ms | pool ready at end |");
            out.add("|---|---|---|---|---|---|---|---|---|");
            for (RefillRow r : rows) {
                out.add(String.format("| %.1f | %d | %d | %d | %d | %.2f | %.1f | %.1f | %d |", r.offeredPerSecond(), r.offered(), r.warm(),
                        r.unavailable(), r.built(), r.builtPerSecond(), r.warmLatency().p50() / 1000, r.warmLatency().p99() / 1000,
                        r.readyAtEnd()));
            }
        }
        if (what.contains("storm")) {
            int pool = Integer.getInteger("density.storm.pool", 100), n = Integer.getInteger("density.storm", 200);
            out.add("");
            out.add("Storm: " + n + " concurrent `POST /v1/vms` (wait=running) against a full pool of " + pool + ", `--cold-spawn false`, "
                    + "over raw HTTP/1.1 sockets connected before the start (time = request written → answer read):");
            out.add("");
            out.add("| daemon JIT | warm | 503 | other | distinct ids | wall ms | daemon CPU ms | warm p50 / p99 ms | 503 p50 / p99 ms | load |");
            out.add("|---|---|---|---|---|---|---|---|---|---|");
            for (String w : System.getProperty("density.storm.warmup", "0,500").split(",")) {
                Path state = Files.createTempDirectory(Path.of("/tmp"), "xostorm-");
                List<String> args2 = new ArrayList<>(List.of("--pool", "hello=0,*=0", "--cold-spawn", "false", "--max-vms",
                        Integer.toString(pool + n + 10)));
                if (!extra.isBlank()) args2.addAll(List.of(extra.trim().split("\\s+")));
                StormRow r;
                try (DaemonProcess d = new DaemonProcess(state, args2)) {
                d.start(); // inside the try: a start that times out still stops the process
                    r = new DensityBench(d).storm(pool, n, Integer.parseInt(w.trim()));
                } finally {
                    Qemus.killAll(state.toString());
                }
                Stats ws = r.byOutcome().getOrDefault("warm", new Stats("warm", 0, 0, 0, 0, 0));
                Stats us = r.byOutcome().getOrDefault("503", new Stats("503", 0, 0, 0, 0, 0));
                out.add(String.format("| %s | %d | %d | %d | %d | %.0f | %.0f | %.1f / %.1f | %.1f / %.1f | %s |",
                        r.warmedUp() ? "warmed (" + w.trim() + " requests)" : "cold (first requests)", r.warm(), r.unavailable(), r.other(),
                        r.distinctIds(), r.wallMs(), r.daemonCpuMs(), ws.p50() / 1000, ws.p99() / 1000, us.p50() / 1000, us.p99() / 1000, r.load()));
            }
        }
        String table = String.join("\n", out);
        System.out.println(table);
        Path file = Path.of(System.getProperty("density.out", "/tmp/density-bench-" + System.currentTimeMillis() + ".md"));
        Files.writeString(file, table + "\n");
        System.out.println("written to " + file);
    }
}
