package io.xenops.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The spawn benchmark, run by ./xenops bench: in one run on one machine, the raw QMP floor and the daemon's
 * warm and cold spawns, each over hundreds of samples, written to docs/benchmarks.md.
 *
 * <p>Each warm sample waits for the pool to be full again first, so it measures an unloaded warm spawn,
 * not the refiller competing with it for the two cores.
 */
public final class SpawnBench {
    static final String MACHINE = "microvm,acpi=off,pit=off,pic=off,rtc=off,x-option-roms=off";
    static final String BEGIN = "<!-- spawn-bench:begin -->";
    static final String END = "<!-- spawn-bench:end -->";

    public static void main(String[] args) throws Exception {
        int warmN = Integer.parseInt(System.getProperty("bench.warm", "300"));
        int coldN = Integer.parseInt(System.getProperty("bench.cold", "200"));
        int floorN = Integer.parseInt(System.getProperty("bench.floor", "500"));
        int pool = 4;
        DaemonProcess.requireBuilt();
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();
        Path state = Files.createTempDirectory(Path.of("/tmp"), "xobench-");
        List<Stats> rows = new ArrayList<>();
        String accel;
        try (DaemonProcess d = new DaemonProcess(state, List.of("--pool", "hello=" + pool + ",*=0")).start()) {
            accel = d.json("GET", "/v1/health", null, 200).get("accel").asText();
            System.out.println("accel: " + accel);

            // The floor, measured in the same run.
            try (RawQemu raw = new RawQemu(state.resolveSibling(state.getFileName() + "-raw"),
                    DaemonProcess.IMAGES.resolve("hello/kernel.elf"), accel, MACHINE)) {
                for (int i = 0; i < 50; i++) { raw.qmpCommand("{\"execute\":\"cont\"}"); raw.qmpCommand("{\"execute\":\"stop\"}"); }
                long[] cont = new long[floorN];
                long[] pong = new long[floorN];
                for (int i = 0; i < floorN; i++) {
                    long t0 = System.nanoTime();
                    raw.qmpCommand("{\"execute\":\"cont\"}");
                    cont[i] = System.nanoTime() - t0;
                    raw.qmpCommand("{\"execute\":\"stop\"}");
                }
                for (int i = 0; i < floorN; i++) {
                    long t0 = System.nanoTime();
                    raw.qmpCommand("{\"execute\":\"cont\"}");
                    raw.send("PING p" + i);
                    raw.readConsoleUntil("PONG p" + i);
                    pong[i] = System.nanoTime() - t0;
                    raw.qmpCommand("{\"execute\":\"stop\"}");
                }
                rows.add(Stats.of("floor: raw QMP `cont` round trip (paused QEMU)", cont));
                rows.add(Stats.of("floor: raw `cont` + PING→PONG on the console", pong));
            }

            long[] running = new long[warmN];
            long[] runningSrv = new long[warmN];
            long[] taken = new long[warmN];
            long[] ready = new long[warmN];
            long[] readySrv = new long[warmN];
            for (int i = 0; i < 20; i++) spawnOnce(d, pool, "running", true);
            for (int i = 0; i < warmN; i++) {
                long[] r = spawnOnce(d, pool, "running", true);
                running[i] = r[0];
                runningSrv[i] = r[1];
                taken[i] = r[3];
            }
            for (int i = 0; i < warmN; i++) {
                long[] r = spawnOnce(d, pool, "ready", true);
                ready[i] = r[0];
                readySrv[i] = r[2];
            }
            rows.add(Stats.of("warm spawn, API → running (client round trip, wait=running)", running));
            rows.add(Stats.of("warm spawn, API → resumed (daemon's `resumed_us`)", runningSrv));
            rows.add(Stats.of("warm spawn, API → ready (client round trip, wait=ready)", ready));
            rows.add(Stats.of("warm spawn, API → ready (daemon's `ready_us`)", readySrv));
            // Where the daemon's own time goes before the hypervisor is asked: parsing, validation, auth, the take.
            rows.add(Stats.of("warm spawn, request → taken from the pool (daemon's `taken_us`, wait=running)", taken));

            d.json("PUT", "/v1/pools/hello", "{\"target\":0}", 200);
            DaemonProcess.eventually(Duration.ofSeconds(30), () -> d.poolReady("hello") == 0);
            long[] cold = new long[coldN];
            for (int i = 0; i < coldN; i++) cold[i] = spawnOnce(d, 0, "ready", false)[0];
            rows.add(Stats.of("cold spawn, API → ready (pool empty: build + boot + PING)", cold));
        } finally {
            Qemus.killAll(state.toString());
        }
        String load = "load average (1/5/15 min) before: " + loadBefore.substring(0, loadBefore.indexOf(' ', loadBefore.indexOf(' ', loadBefore.indexOf(' ') + 1) + 1))
                + ", after: " + Files.readString(Path.of("/proc/loadavg")).trim().split(" ", 4)[0] + " (a shared machine: other work ran meanwhile)";
        write(rows, accel, warmN, coldN, floorN, load);
    }

    /** Returns {client round trip, server resumed, server ready, server taken} in nanoseconds. */
    private static long[] spawnOnce(DaemonProcess d, int poolTarget, String wait, boolean warm) throws Exception {
        if (poolTarget > 0) DaemonProcess.eventually(Duration.ofSeconds(60), () -> d.poolReady("hello") == poolTarget);
        long t0 = System.nanoTime();
        JsonNode vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"" + wait + "\"}", 201);
        long rt = System.nanoTime() - t0;
        String path = vm.at("/timings/path").asText();
        if (warm != path.equals("warm")) throw new IllegalStateException("expected a " + (warm ? "warm" : "cold") + " spawn, got " + vm);
        d.json("DELETE", "/v1/vms/" + vm.get("id").asText(), null, 204);
        return new long[] {rt, vm.at("/timings/resumed_us").asLong() * 1000, vm.at("/timings/ready_us").asLong(-1) * 1000,
                vm.at("/timings/taken_us").asLong(-1) * 1000};
    }

    private static void write(List<Stats> rows, String accel, int warmN, int coldN, int floorN, String load) throws IOException {
        Path doc = DaemonProcess.ROOT.resolve("docs/benchmarks.md");
        StringBuilder sb = new StringBuilder();
        sb.append(BEGIN).append('\n');
        sb.append("## Spawn latency, QEMU driver (`./xenops bench`)\n\n");
        sb.append("Measured ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append(" on `")
                .append(InetAddress.getLocalHost().getHostName()).append("`: ").append(machine())
                .append(", accel **").append(accel).append("**, one run, all rows from the same run. ")
                .append("Warm rows: ").append(warmN).append(" samples each, every sample taken with the pool full (unloaded); cold: ")
                .append(coldN).append("; floors: ").append(floorN).append(". Times in milliseconds. ").append(load).append(".\n\n");
        sb.append("| what | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n");
        for (Stats s : rows) sb.append(s.row()).append('\n');
        Stats floor = rows.get(0), pongFloor = rows.get(1), running = rows.get(2), readyRt = rows.get(4), cold = rows.getLast();
        sb.append(String.format("%nWarm API → running p50 is %.3f ms above the raw `cont` floor; warm API → ready p50 is %.3f ms above the raw cont+PONG floor; "
                        + "cold/warm (ready, p50) = %.1f×.%n",
                (running.p50() - floor.p50()) / 1000, (readyRt.p50() - pongFloor.p50()) / 1000, cold.p50() / readyRt.p50()));
        sb.append(END).append('\n');
        String text = Files.exists(doc) ? Files.readString(doc) : "# Benchmarks\n\n";
        int b = text.indexOf(BEGIN), e = text.indexOf(END);
        text = b >= 0 && e > b ? text.substring(0, b) + sb + text.substring(e + END.length() + 1) : text + "\n" + sb;
        Files.createDirectories(doc.getParent());
        Files.writeString(doc, text);
        System.out.println(sb);
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) { cpu = line.substring(line.indexOf(':') + 1).trim(); break; }
            }
        } catch (IOException ignored) {
            // cpuinfo is informative only
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + ", Java " + Runtime.version();
    }
}
