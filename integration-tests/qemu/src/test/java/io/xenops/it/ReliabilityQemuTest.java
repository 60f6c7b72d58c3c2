package io.xenops.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults under the real daemon and real QEMU: a QEMU killed under a pooled, a running and a spawning VM; a
 * guest that never says READY; a guest that floods its console; the daemon killed with SIGKILL mid-spawn.
 * Each test asserts the outcome and that nothing it made is left: no QEMU process, no record, no domain
 * directory beyond what the daemon still owns. Each is bounded (see {@link Timeout}).
 */
class ReliabilityQemuTest {
    private static final Duration FILL = Duration.ofSeconds(60);
    /** How long the leftovers of a killed or destroyed VM may take to go. */
    private static final Duration SETTLE = Duration.ofSeconds(15);
    private final ObjectMapper json = new ObjectMapper();
    private OwnedState owned;
    private Path state;
    private Path images;

    @BeforeAll
    static void built() {
        DaemonProcess.requireBuilt();
    }

    @BeforeEach
    void setUp() throws Exception {
        owned = OwnedState.fresh("xorel-");
        state = owned.dir();
        images = Files.createTempDirectory(Path.of("/tmp"), "xorel-img-");
    }

    @AfterEach
    void tearDown() throws Exception {
        owned.close();
    }

    private static void kill9(long pid) throws Exception {
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
    }

    /** The pool cannot refill: its builds fail, and it says why. */
    private static void awaitFailingBuilds(DaemonProcess d) throws InterruptedException {
        DaemonProcess.eventually(Duration.ofSeconds(30), () -> {
            try {
                JsonNode p = d.json("GET", "/v1/pools/hello", null, 200);
                return p.get("build_failures").asInt() >= 1 && !p.path("last_error").isNull();
            } catch (Exception e) {
                return false;
            }
        });
    }

    private String onlyPooled() {
        return owned.withRole("POOLED").stream().findFirst().orElseThrow(() -> new AssertionError("no pooled record in " + state));
    }

    @Test
    @Timeout(180)
    void aQemuKilledUnderAPooledVmIsReplacedAndLeavesNothing() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "hello=2");
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 2);
        String victim = onlyPooled();
        List<Qemus.Proc> procs = Qemus.mentioning(victim);
        assertThat(procs).hasSize(1);
        kill9(procs.getFirst().pid());

        owned.assertNothingLeftFor(victim);
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 2);
        assertThat(owned.records()).doesNotContainKey(victim).hasSize(2);
        owned.assertOwnedMatchesRunning(SETTLE);
        // The dead member is never handed out: the next two spawns are warm and answer.
        for (int i = 0; i < 2; i++) {
            JsonNode vm = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}", 201);
            assertThat(vm.get("id").asText()).isNotEqualTo(victim);
            assertThat(vm.at("/timings/path").asText()).isEqualTo("warm");
            assertThat(d.call("DELETE", "/v1/vms/" + vm.get("id").asText(), null).statusCode()).isEqualTo(204);
        }
    }

    @Test
    @Timeout(180)
    void aQemuKilledUnderARunningVmIsCrashedAndDestroyCleans() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "hello=1");
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1);
        String id = d.json("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}", 201).get("id").asText();
        kill9(Qemus.mentioning(id).getFirst().pid());

        DaemonProcess.eventually(Duration.ofSeconds(15), () -> {
            try {
                return d.json("GET", "/v1/vms/" + id, null, 200).get("state").asText().equals("crashed");
            } catch (Exception e) {
                return false;
            }
        });
        HttpResponse<String> events = d.call("GET", "/v1/events?since=0&max=1000", null);
        assertThat(events.body()).contains("vm.crashed").contains(id);
        assertThat(d.call("DELETE", "/v1/vms/" + id, null).statusCode()).isEqualTo(204);
        owned.assertNothingLeftFor(id);
        assertThat(d.call("GET", "/v1/vms/" + id, null).statusCode()).isEqualTo(404);
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1);
        owned.assertOwnedMatchesRunning(SETTLE);
    }

    @Test
    @Timeout(180)
    void aQemuKilledDuringAColdSpawnFailsTheSpawnFastAndLeavesNothing() throws Exception {
        ReliabilityImages.make(images, "spin", ReliabilityImages.SPIN);
        DaemonProcess d = owned.daemon("--images-dir", images.toString(), "--pool", "spin=0,hello=0", "--boot-timeout-ms", "60000");
        long t0 = System.nanoTime();
        CompletableFuture<HttpResponse<String>> spawn = CompletableFuture.supplyAsync(() -> {
            try {
                return d.call("POST", "/v1/vms", "{\"image\":\"spin\",\"wait\":\"ready\",\"timeout_ms\":60000}");
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        DaemonProcess.eventually(Duration.ofSeconds(30), () -> !owned.qemuPids().isEmpty());
        Thread.sleep(300); // let it get past QEMU start into the boot wait
        for (long pid : owned.qemuPids()) kill9(pid);

        HttpResponse<String> r = spawn.get(40, java.util.concurrent.TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).as("spawn answer: %s\n%s", r.body(), d.logText()).isBetween(500, 599);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        // The death is noticed, not waited out: well under the 60 s boot timeout.
        assertThat(ms).as("answer after the QEMU died").isLessThan(30_000);
        DaemonProcess.eventually(SETTLE, () -> owned.qemuPids().isEmpty());
        DaemonProcess.eventually(SETTLE, () -> owned.records().isEmpty() && owned.domainDirs().isEmpty());
        assertThat(d.json("GET", "/v1/vms", null, 200).get("vms")).isEmpty();
    }

    @Test
    @Timeout(180)
    void aGuestThatNeverSaysReadyIsCleanedAfterTheBootTimeoutAndBuildsBackOff() throws Exception {
        ReliabilityImages.make(images, "spin", ReliabilityImages.SPIN);
        DaemonProcess d = owned.daemon("--images-dir", images.toString(), "--pool", "spin=1,hello=0", "--boot-timeout-ms", "1500");
        Set<String> seen = new TreeSet<>();
        int maxAlive = 0;
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < end) {
            seen.addAll(owned.records().keySet());
            maxAlive = Math.max(maxAlive, owned.qemuPids().size());
            Thread.sleep(100);
        }
        JsonNode pool = d.json("GET", "/v1/pools/spin", null, 200);
        int failures = pool.get("build_failures").asInt();
        assertThat(pool.get("ready").asInt()).isZero();
        assertThat(failures).as("builds that timed out: %s", pool).isGreaterThanOrEqualTo(2);
        // Backoff: with no delay, 20 s of 1.5 s timeouts would be about 13 builds.
        assertThat(failures).as("builds in 20 s with a 1.5 s boot timeout (backoff expected): %s", pool).isLessThanOrEqualTo(10);
        assertThat(pool.get("last_error").asText()).as("pool says why").isNotBlank();
        assertThat(maxAlive).as("QEMUs alive at once for a pool of one").isLessThanOrEqualTo(1);
        assertThat(seen.size()).as("distinct VMs tried").isGreaterThanOrEqualTo(2);
        // Every timed-out build was destroyed: at most the one in flight remains.
        assertThat(owned.qemuPids().size()).isLessThanOrEqualTo(1);
        assertThat(d.json("PUT", "/v1/pools/spin", "{\"target\":0}", 200).get("target").asInt()).isZero();
        DaemonProcess.eventually(SETTLE, () -> owned.qemuPids().isEmpty());
        DaemonProcess.eventually(SETTLE, () -> owned.records().isEmpty() && owned.domainDirs().isEmpty());
        System.out.println("never-ready: " + seen.size() + " builds tried, pool " + pool);
    }

    @Test
    @Timeout(180)
    void aGuestFloodingItsConsoleDoesNotGrowTheDaemon() throws Exception {
        ReliabilityImages.make(images, "flood", ReliabilityImages.FLOOD_LINES);
        ReliabilityImages.make(images, "floodline", ReliabilityImages.FLOOD_ONE_LINE);
        DaemonProcess d = owned.daemon("--images-dir", images.toString(), "--pool", "hello=1,flood=0,floodline=0", "--boot-timeout-ms", "8000");
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1);
        long baseline = rssKiB(d.pid());
        // Two cold spawns that flood until their 8 s boot wait gives up: lines, and one endless line.
        List<CompletableFuture<HttpResponse<String>>> spawns = new ArrayList<>();
        for (String img : List.of("flood", "floodline")) {
            spawns.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return d.call("POST", "/v1/vms", "{\"image\":\"" + img + "\",\"wait\":\"ready\",\"timeout_ms\":8000}");
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }));
        }
        long peak = baseline;
        long healthWorst = 0;
        while (!spawns.stream().allMatch(CompletableFuture::isDone)) {
            peak = Math.max(peak, rssKiB(d.pid()));
            long t = System.nanoTime();
            assertThat(d.call("GET", "/v1/health", null).statusCode()).isEqualTo(200);
            healthWorst = Math.max(healthWorst, (System.nanoTime() - t) / 1_000_000);
            Thread.sleep(200);
        }
        for (var s : spawns) {
            HttpResponse<String> r = s.get();
            assertThat(r.statusCode()).as("flooding spawn: %s", r.body()).isBetween(500, 599);
        }
        System.out.printf("flood: daemon RSS baseline %d KiB, peak %d KiB, worst health %d ms%n", baseline, peak, healthWorst);
        assertThat(peak - baseline).as("daemon RSS growth while two guests flood (KiB)").isLessThan(128 * 1024);
        assertThat(healthWorst).as("health latency during the flood (ms)").isLessThan(2000);
        // The flooders are gone; the warm pool is untouched.
        DaemonProcess.eventually(Duration.ofSeconds(20), () -> owned.qemuPids().size() == 1);
        assertThat(d.poolReady("hello")).isEqualTo(1);
        owned.assertOwnedMatchesRunning(SETTLE);
    }

    @Test
    @Timeout(240)
    void theDaemonKilledMidSpawnLeaksNoVmAndLosesNone() throws Exception {
        // Cold: the spawn's VM is recorded, started and booted on the request; kill the daemon at rising delays.
        // Two delays keep CI inside its budget; -Dxenops.reliability.killDelays=0,30,120,400 is the long form.
        int[] delaysMs = java.util.Arrays.stream(System.getProperty("xenops.reliability.killDelays", "0,150").split(","))
                .mapToInt(x -> Integer.parseInt(x.trim())).toArray();
        for (int delay : delaysMs) {
            DaemonProcess d = owned.daemon("--pool", "hello=1");
            DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1);
            String pooled = onlyPooled();
            Set<String> heard = java.util.concurrent.ConcurrentHashMap.newKeySet();
            CompletableFuture<HttpResponse<String>> cold = CompletableFuture.supplyAsync(() -> {
                try {
                    // Two spawns: the first takes the pooled VM (warm), the second is cold.
                    HttpResponse<String> warm = d.call("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}");
                    if (warm.statusCode() == 201) heard.add(json.readTree(warm.body()).get("id").asText());
                    return d.call("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"ready\"}");
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            // Wait until the pooled VM has been taken, then kill the daemon after the delay.
            DaemonProcess.eventually(Duration.ofSeconds(30), () -> !"POOLED".equals(owned.roles().get(pooled)));
            Thread.sleep(delay);
            d.kill9();
            try {
                HttpResponse<String> r = cold.get(10, java.util.concurrent.TimeUnit.SECONDS);
                if (r.statusCode() == 201) heard.add(json.readTree(r.body()).get("id").asText());
            } catch (java.util.concurrent.ExecutionException e) {
                // the connection died with the daemon: the client got an error, as promised
            }
            DaemonProcess second = owned.daemon("--pool", "hello=1");
            DaemonProcess.eventually(FILL, () -> second.poolReady("hello") == 1);
            owned.assertOwnedMatchesRunning(SETTLE);
            JsonNode vms = second.json("GET", "/v1/vms", null, 200).get("vms");
            Set<String> listed = new TreeSet<>();
            vms.forEach(v -> listed.add(v.get("id").asText()));
            // A VM whose client heard of it is never lost.
            assertThat(listed).as("delay %d ms: VMs the clients heard of survive", delay).containsAll(heard);
            // Every listed VM is a live, running QEMU, and every QEMU is listed or pooled.
            for (String id : listed) assertThat(Qemus.mentioning(id)).as("QEMU of %s", id).hasSize(1);
            assertThat(owned.qemuPids()).as("delay %d ms: QEMUs = listed + pooled", delay).hasSize(listed.size() + 1);
            for (String id : listed) second.call("DELETE", "/v1/vms/" + id, null);
            for (String id : listed) owned.assertNothingLeftFor(id);
            owned.close();
            // The next round starts from a clean directory: the same state dir would re-adopt this round's pool.
            deleteTree(state);
            Files.createDirectories(state);
        }
    }

    /**
     * The state directory made read-only under a running daemon (a read-only bind mount over itself), then
     * writable again. Needs root with CAP_SYS_ADMIN, as the QEMU tests' CI host has.
     */
    @Test
    @Timeout(180)
    void aReadOnlyStateDirectoryIsAClearErrorAndRecovers() throws Exception {
        DaemonProcess d = owned.daemon("--pool", "hello=1");
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1);
        sh("mount", "--bind", state.toString(), state.toString());
        try {
            sh("mount", "-o", "remount,bind,ro", state.toString());
            // Taking the pooled VM must record it as running first; that write fails.
            HttpResponse<String> r = d.call("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"running\"}");
            System.out.println("read-only spawn: " + r.statusCode() + " " + r.body());
            assertThat(r.headers().firstValue("Content-Type").orElse("")).as("answer %d %s", r.statusCode(), r.body())
                    .startsWith(r.statusCode() >= 400 ? "application/problem+json" : "application/json");
            if (r.statusCode() >= 400) {
                assertThat(r.statusCode()).as(r.body()).isBetween(500, 599);
                assertThat(d.json("GET", "/v1/vms", null, 200).get("vms")).as("no VM the client was not told of").isEmpty();
            }
            assertThat(d.call("GET", "/v1/health", null).statusCode()).isEqualTo(200);
            // The pool cannot refill: its builds fail and say so.
            awaitFailingBuilds(d);
            System.out.println("read-only pool: " + d.json("GET", "/v1/pools/hello", null, 200));
        } finally {
            sh("umount", state.toString());
        }
        // Writable again: the pool recovers.
        DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1);
        for (JsonNode vm : d.json("GET", "/v1/vms", null, 200).get("vms")) {
            assertThat(d.call("DELETE", "/v1/vms/" + vm.get("id").asText(), null).statusCode()).isEqualTo(204);
        }
        // The destroy that could not remove its files while the directory was read-only is retried with backoff
        // and finishes once it is writable: without a restart, records, domain directories and QEMUs match.
        owned.assertOwnedMatchesRunning(SETTLE);
        DaemonProcess.eventually(SETTLE, () -> owned.records().size() == 1);
        System.out.println("read-only, before restart: records " + owned.roles() + " domains " + owned.domainDirs());
        // And after a restart nothing is half-made and the pool is whole.
        d.stop();
        DaemonProcess again = owned.daemon("--pool", "hello=1");
        DaemonProcess.eventually(FILL, () -> again.poolReady("hello") == 1);
        owned.assertOwnedMatchesRunning(SETTLE);
        assertThat(owned.records()).hasSize(1);
    }

    /** The state directory on a 4 MiB tmpfs, filled to the last byte under a running daemon, then freed. */
    @Test
    @Timeout(180)
    void aFullStateDirectoryIsAClearErrorAndRecovers() throws Exception {
        sh("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", state.toString());
        Path filler = state.resolve("filler");
        try {
            DaemonProcess d = owned.daemon("--pool", "hello=1");
            DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1);
            long filled = 0;
            try (var out = Files.newOutputStream(filler)) {
                byte[] chunk = new byte[4096];
                while (true) {
                    out.write(chunk);
                    out.flush();
                    filled += chunk.length;
                }
            } catch (java.io.IOException expected) {
                // ENOSPC: the directory is full
            }
            assertThat(filled).as("bytes written before ENOSPC").isGreaterThan(0);
            HttpResponse<String> r = d.call("POST", "/v1/vms", "{\"image\":\"hello\",\"wait\":\"running\"}");
            System.out.println("full spawn: " + r.statusCode() + " " + r.body());
            if (r.statusCode() >= 400) {
                assertThat(r.statusCode()).as(r.body()).isBetween(500, 599);
                assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
                assertThat(d.json("GET", "/v1/vms", null, 200).get("vms")).as("no VM the client was not told of").isEmpty();
            } else {
                assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            }
            assertThat(d.call("GET", "/v1/health", null).statusCode()).isEqualTo(200);
            awaitFailingBuilds(d);
            System.out.println("full pool: " + d.json("GET", "/v1/pools/hello", null, 200));
            Files.delete(filler);
            DaemonProcess.eventually(FILL, () -> d.poolReady("hello") == 1);
            for (JsonNode vm : d.json("GET", "/v1/vms", null, 200).get("vms")) {
                assertThat(d.call("DELETE", "/v1/vms/" + vm.get("id").asText(), null).statusCode()).isEqualTo(204);
            }
            System.out.println("full, before restart: records " + owned.roles() + " domains " + owned.domainDirs() + " qemus " + owned.qemuPids().size());
            // Unlike read-only, deleting needs no space: nothing is left over even before a restart.
            owned.assertOwnedMatchesRunning(SETTLE);
            assertThat(owned.records()).hasSize(1);
            d.stop();
            DaemonProcess again = owned.daemon("--pool", "hello=1");
            DaemonProcess.eventually(FILL, () -> again.poolReady("hello") == 1);
            owned.assertOwnedMatchesRunning(SETTLE);
            assertThat(owned.records()).hasSize(1);
        } finally {
            owned.close();
            DaemonProcess.eventually(Duration.ofSeconds(10), () -> owned.qemuPids().isEmpty());
            umount(state);
        }
    }

    /**
     * A killed QEMU drops its memory (and so its /proc cmdline) before its files, so for a moment after it looks gone
     * the mount is still busy: retry, then detach lazily rather than leave the mount behind.
     */
    private static void umount(Path dir) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start().waitFor() == 0) return;
            Thread.sleep(200);
        }
        sh("umount", "-l", dir.toString());
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed (this test needs root with CAP_SYS_ADMIN): " + out);
        }
    }

    private static long rssKiB(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new AssertionError("no VmRSS for " + pid);
    }

    static void deleteTree(Path root) throws Exception {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
