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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The load harness (not part of the test run: no {@code @Test}; see docs/reliability.md for the command).
 * A second process on loopback against the real daemon and real QEMU, bounded in count and time:
 *
 * <ul>
 *   <li>{@code storm}: {@code load.storm} concurrent {@code POST /v1/vms} against a full pool of {@code load.pool},
 *       released at once by a latch. Every request answered; the first {@code pool} warm, the rest cold (or
 *       503 with {@code load.cold=false}); no id twice; latency spread.</li>
 *   <li>{@code density}: pools filled to each of {@code load.steps} paused VMs; at each, host memory per VM
 *       (sum of QEMU PSS from /proc/PID/smaps_rollup over the count), daemon RSS and fds, and warm spawn
 *       p50/p99 over {@code load.samples} spawns (each waits for the pool to be full again).</li>
 * </ul>
 * Results go to stdout and, with {@code -Dload.write=true}, to the reliability-bench section of docs/benchmarks.md.
 */
public final class ReliabilityLoad {
    static final String BEGIN = "<!-- reliability-bench:begin -->";
    static final String END = "<!-- reliability-bench:end -->";
    private static final ObjectMapper JSON = new ObjectMapper();

    record StormResult(int requests, int pool, boolean cold, int warm, int coldCount, int unavailable, int other,
                       int distinctIds, Stats latency, double wallMs, Map<String, Stats> byOutcome) {}

    record DensityRow(int vms, double pssPerVmMiB, double rssPerVmMiB, double daemonRssMiB, int daemonFds, Stats warmSpawn,
                      double fillSeconds) {}

    public static void main(String[] args) throws Exception {
        String what = System.getProperty("load.what", "storm,density");
        DaemonProcess.requireBuilt();
        List<String> out = new ArrayList<>();
        String host = java.net.InetAddress.getLocalHost().getHostName();
        out.add("Measured " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + " on " + host + " ("
                + Runtime.getRuntime().availableProcessors() + " cores, load average "
                + Files.readString(Path.of("/proc/loadavg")).split(" ")[0] + " at start; other work was running).");
        if (what.contains("storm")) {
            int pool = Integer.getInteger("load.pool", 100), n = Integer.getInteger("load.storm", 200);
            for (String cold : System.getProperty("load.cold", "false,true").split(",")) {
                StormResult r = storm(pool, n, Boolean.parseBoolean(cold));
                System.out.println(r);
                out.add("");
                out.add("Spawn storm: " + r.requests() + " concurrent `POST /v1/vms` (wait=running) against a full pool of "
                        + r.pool() + ", `--cold-spawn " + r.cold() + "`, wall " + String.format("%.0f", r.wallMs()) + " ms:");
                out.add("");
                out.add("| answered | warm | cold | 503 | other | distinct ids | p50 ms | p90 ms | p99 ms | max ms |");
                out.add("|---|---|---|---|---|---|---|---|---|---|");
                out.add(String.format("| %d | %d | %d | %d | %d | %d | %.1f | %.1f | %.1f | %.1f |", r.requests(), r.warm(),
                        r.coldCount(), r.unavailable(), r.other(), r.distinctIds(), r.latency().p50() / 1000,
                        r.latency().p90() / 1000, r.latency().p99() / 1000, r.latency().max() / 1000));
                out.add("");
                out.add("| outcome | n | p50 ms | p90 ms | p99 ms | max ms |");
                out.add("|---|---|---|---|---|---|");
                r.byOutcome().forEach((k, st) -> out.add(String.format("| %s | %d | %.1f | %.1f | %.1f | %.1f |", k, st.n(),
                        st.p50() / 1000, st.p90() / 1000, st.p99() / 1000, st.max() / 1000)));
            }
        }
        if (what.contains("density")) {
            List<Integer> steps = new ArrayList<>();
            for (String s : System.getProperty("load.steps", "10,100,300").split(",")) steps.add(Integer.parseInt(s.trim()));
            List<DensityRow> rows = density(steps, Integer.getInteger("load.samples", 50));
            out.add("");
            out.add("Density: paused `hello` VMs (4 MiB guests) in one warm pool; warm spawn = `POST /v1/vms` wait=running, "
                    + "unloaded (each sample waits for the pool to be full again):");
            out.add("");
            out.add("| paused VMs | QEMU PSS per VM MiB | QEMU RSS per VM MiB | daemon RSS MiB | daemon fds | fill s | warm spawn p50 ms | p99 ms | n |");
            out.add("|---|---|---|---|---|---|---|---|---|");
            for (DensityRow r : rows) {
                System.out.println(r);
                out.add(String.format("| %d | %.2f | %.2f | %.1f | %d | %.1f | %.2f | %.2f | %d |", r.vms(), r.pssPerVmMiB(),
                        r.rssPerVmMiB(), r.daemonRssMiB(), r.daemonFds(), r.fillSeconds(), r.warmSpawn().p50() / 1000,
                        r.warmSpawn().p99() / 1000, r.warmSpawn().n()));
            }
        }
        String table = String.join("\n", out);
        System.out.println(table);
        if (Boolean.getBoolean("load.write")) write(table);
    }

    static StormResult storm(int pool, int n, boolean cold) throws Exception {
        Path state = Files.createTempDirectory(Path.of("/tmp"), "xoload-");
        try (DaemonProcess d = new DaemonProcess(state, List.of("--pool", "hello=" + pool + ",*=0", "--cold-spawn",
                Boolean.toString(cold), "--max-vms", Integer.toString(pool + n + 10))).start()) {
            waitReady(d, pool, Duration.ofMinutes(10));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                    .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
            CountDownLatch go = new CountDownLatch(1);
            long[] lat = new long[n];
            Map<String, Integer> byPath = new ConcurrentHashMap<>();
            Map<String, List<Long>> latByPath = new ConcurrentHashMap<>();
            List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
            long t0;
            try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int k = i;
                    fs.add(ex.submit(() -> {
                        go.await();
                        long s = System.nanoTime();
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(d.url() + "/v1/vms"))
                                .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{\"image\":\"hello\",\"wait\":\"running\"}")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        lat[k] = System.nanoTime() - s;
                        String key;
                        if (r.statusCode() == 201) {
                            JsonNode vm = JSON.readTree(r.body());
                            ids.add(vm.get("id").asText());
                            key = vm.at("/timings/path").asText();
                        } else {
                            key = Integer.toString(r.statusCode());
                        }
                        byPath.merge(key, 1, Integer::sum);
                        latByPath.computeIfAbsent(key, x -> java.util.Collections.synchronizedList(new ArrayList<>())).add(lat[k]);
                        return null;
                    }));
                }
                t0 = System.nanoTime();
                go.countDown();
                for (Future<?> f : fs) f.get(5, TimeUnit.MINUTES);
            }
            double wall = (System.nanoTime() - t0) / 1e6;
            int warm = byPath.getOrDefault("warm", 0), c = byPath.getOrDefault("cold", 0), u = byPath.getOrDefault("503", 0);
            int other = n - warm - c - u;
            if (other != 0) System.out.println("storm: other answers " + byPath);
            Map<String, Stats> byOutcome = new TreeMap<>();
            latByPath.forEach((key, l) -> byOutcome.put(key, Stats.of(key, l.stream().mapToLong(Long::longValue).toArray())));
            StormResult r = new StormResult(n, pool, cold, warm, c, u, other, new HashSet<>(ids).size(), Stats.of("storm", lat), wall,
                    byOutcome);
            // Check what the numbers must say before anyone reads a table.
            if (new HashSet<>(ids).size() != ids.size()) throw new AssertionError("an id was handed out twice: " + r);
            if (warm != pool) throw new AssertionError("expected exactly " + pool + " warm spawns: " + r + " " + byPath);
            if (!cold && u != n - pool) throw new AssertionError("expected " + (n - pool) + " 503s: " + r + " " + byPath);
            if (cold && c != n - pool) throw new AssertionError("expected " + (n - pool) + " cold spawns: " + r + " " + byPath);
            JsonNode listed = d.json("GET", "/v1/vms", null, 200).get("vms");
            if (listed.size() != ids.size()) throw new AssertionError("listed " + listed.size() + " VMs, clients got " + ids.size());
            for (String id : ids) d.call("DELETE", "/v1/vms/" + id, null);
            return r;
        } finally {
            Qemus.killAll(state.toString());
        }
    }

    static List<DensityRow> density(List<Integer> steps, int samples) throws Exception {
        Path state = Files.createTempDirectory(Path.of("/tmp"), "xodens-");
        List<DensityRow> rows = new ArrayList<>();
        int max = steps.stream().mapToInt(Integer::intValue).max().orElseThrow();
        try (DaemonProcess d = new DaemonProcess(state, List.of("--pool", "hello=0,*=0", "--max-vms", Integer.toString(max + 20))).start()) {
            for (int n : steps) {
                long t0 = System.nanoTime();
                d.json("PUT", "/v1/pools/hello", "{\"target\":" + n + "}", 200);
                waitReady(d, n, Duration.ofMinutes(20));
                double fill = (System.nanoTime() - t0) / 1e9;
                Thread.sleep(2000); // let page sharing and the daemon settle before measuring
                List<Qemus.Proc> qemus = Qemus.mentioning(state.toString());
                long pss = 0, rss = 0;
                for (Qemus.Proc q : qemus) {
                    Map<String, Long> m = rollup(q.pid());
                    pss += m.getOrDefault("Pss", 0L);
                    rss += m.getOrDefault("Rss", 0L);
                }
                long daemonRss = rollup(d.pid()).getOrDefault("Rss", 0L);
                int fds;
                try (var s = Files.list(Path.of("/proc", Long.toString(d.pid()), "fd"))) {
                    fds = (int) s.count();
                }
                long[] lat = new long[samples];
                for (int i = 0; i < samples; i++) {
                    waitReady(d, n, Duration.ofMinutes(2));
                    long s = System.nanoTime();
                    JsonNode vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"running\"}", 201);
                    lat[i] = System.nanoTime() - s;
                    if (!"warm".equals(vm.at("/timings/path").asText())) throw new AssertionError("not warm at " + n + ": " + vm);
                    d.call("DELETE", "/v1/vms/" + vm.get("id").asText(), null);
                }
                rows.add(new DensityRow(qemus.size(), pss / 1024.0 / qemus.size(), rss / 1024.0 / qemus.size(), daemonRss / 1024.0,
                        fds, Stats.of("warm@" + n, lat), fill));
                System.out.println(rows.getLast());
            }
        } finally {
            Qemus.killAll(state.toString());
        }
        return rows;
    }

    static void waitReady(DaemonProcess d, int n, Duration limit) throws InterruptedException {
        DaemonProcess.eventually(limit, () -> d.poolReady("hello") >= n);
    }

    /** kB fields of /proc/PID/smaps_rollup. */
    static Map<String, Long> rollup(long pid) throws Exception {
        Map<String, Long> m = new TreeMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 3 && p[0].endsWith(":") && p[2].equals("kB")) m.put(p[0].substring(0, p[0].length() - 1), Long.parseLong(p[1]));
        }
        return m;
    }

    static void write(String table) throws Exception {
        Path doc = DaemonProcess.ROOT.resolve("docs/benchmarks.md");
        String text = Files.exists(doc) ? Files.readString(doc) : "# Benchmarks\n";
        String section = BEGIN + "\n" + table + "\n" + END;
        int b = text.indexOf(BEGIN), e = text.indexOf(END);
        text = b >= 0 && e > b ? text.substring(0, b) + section + text.substring(e + END.length())
                : text + "\n## Load and density (reliability harness)\n\n" + section + "\n";
        Files.writeString(doc, text);
    }
}
