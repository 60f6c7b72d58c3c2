package io.xenops.driver.qemu;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainSpec;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import io.xenops.qmp.QmpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Latency harness for the QEMU driver (not a unit test: timings on a shared machine are noise in a
 * test suite). Run from domain-builder after test-compile:
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp target/classes:target/test-classes:$(cat cp.txt) \
 *     io.xenops.driver.qemu.QemuDriverBench unikernel/target/images/hello/kernel.elf [rounds]
 * </pre>
 *
 * Prints medians and percentiles in microseconds for: raw QMP round trips, the driver's unpause and
 * pause, cont + PING to PONG, PING to PONG, create, cont to READY, create to READY, and destroy.
 */
public final class QemuDriverBench {
    private final ConcurrentHashMap<String, CompletableFuture<DomainEvent>> waiting = new ConcurrentHashMap<>();

    public static void main(String[] args) throws Exception {
        Path kernel = Path.of(args[0]).toAbsolutePath();
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        new QemuDriverBench().run(kernel, rounds);
    }

    private CompletableFuture<DomainEvent> expect(String key) {
        return waiting.computeIfAbsent(key, k -> new CompletableFuture<>());
    }

    private void onEvent(DomainEvent e) {
        String key = switch (e) {
            case DomainEvent.GuestSaid g when g.message() instanceof GuestMessage.Ready -> g.id() + "/READY";
            case DomainEvent.GuestSaid g when g.message() instanceof GuestMessage.Pong p -> g.id() + "/PONG/" + p.token();
            case DomainEvent.GuestSaid g when g.message() instanceof GuestMessage.Result r -> g.id() + "/RESULT/" + r.token();
            default -> null;
        };
        if (key != null) expect(key).complete(e);
    }

    private void run(Path kernel, int rounds) throws Exception {
        Path state = Files.createTempDirectory("xb");
        QemuDriver driver = new QemuDriver(QemuConfig.defaults(state).withProbeKernel(kernel));
        driver.setListener(this::onEvent);
        try {
            long t = System.nanoTime();
            AccelChoice accel = driver.accel();
            System.out.printf("accel: %s (probe %.0f ms)%n", accel, (System.nanoTime() - t) / 1e6);
            bench(driver, kernel, rounds);
        } finally {
            for (var d : driver.list()) driver.destroy(d.id()).get(10, TimeUnit.SECONDS);
            driver.close();
            QemuTestSupport.killAll(state);
        }
    }

    private void bench(QemuDriver driver, Path kernel, int rounds) throws Exception {
        int creates = Math.max(10, rounds / 10);
        // Warm up the JIT on the paths measured below; the numbers are for a daemon that has run a while.
        for (int i = 0; i < 3; i++) spawnOnce(driver, kernel, "warm" + i, null, null, null, null);

        long[] create = new long[creates];
        long[] contReady = new long[creates];
        long[] createReady = new long[creates];
        long[] destroy = new long[creates];
        for (int i = 0; i < creates; i++) {
            long[][] out = {create, contReady, createReady, destroy};
            spawnOnce(driver, kernel, "c" + i, out[0], out[1], out[2], out[3], i);
        }

        String id = "rt";
        driver.create(new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id)).get(30, TimeUnit.SECONDS);
        driver.unpause(id).get();
        expect(id + "/READY").get(10, TimeUnit.SECONDS);
        ping(driver, id, "warmup");
        QemuDomain dom = domainOf(driver, id);
        QmpClient qmp = dom.qmp;

        long[] rawQuery = new long[rounds];
        long[] rawCont = new long[rounds];
        long[] rawStop = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            long a = System.nanoTime();
            qmp.execute("query-status").get();
            long b = System.nanoTime();
            dom.stopsRequested.incrementAndGet();
            qmp.execute("stop").get();
            dom.stopsRequested.decrementAndGet();
            long c = System.nanoTime();
            qmp.execute("cont").get();
            long d = System.nanoTime();
            rawQuery[i] = b - a;
            rawStop[i] = c - b;
            rawCont[i] = d - c;
        }
        long[] unpause = new long[rounds];
        long[] pause = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            long a = System.nanoTime();
            driver.pause(id).get();
            long b = System.nanoTime();
            driver.unpause(id).get();
            long c = System.nanoTime();
            pause[i] = b - a;
            unpause[i] = c - b;
        }
        long[] pingPong = new long[rounds];
        long[] contPing = new long[rounds];
        long[] contArgs = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            pingPong[i] = ping(driver, id, "p" + i);
        }
        for (int i = 0; i < rounds; i++) {
            driver.pause(id).get();
            Thread.sleep(1);
            String token = "cp" + i;
            CompletableFuture<DomainEvent> pong = expect(id + "/PONG/" + token);
            long a = System.nanoTime();
            driver.unpause(id).get();
            driver.send(id, new GuestCommand.Ping(token)).get();
            DomainEvent e = pong.get(10, TimeUnit.SECONDS);
            contPing[i] = e.nanoTime() - a;
        }
        for (int i = 0; i < rounds; i++) {
            driver.pause(id).get();
            Thread.sleep(1);
            String token = "ca" + i;
            CompletableFuture<DomainEvent> result = expect(id + "/RESULT/" + token);
            long a = System.nanoTime();
            driver.unpause(id).get();
            driver.send(id, new GuestCommand.Args(token, "hello from the bench")).get();
            DomainEvent e = result.get(10, TimeUnit.SECONDS);
            contArgs[i] = e.nanoTime() - a;
        }
        driver.destroy(id).get(10, TimeUnit.SECONDS);

        System.out.printf(Locale.ROOT, "%-40s %9s %9s %9s %9s %6s%n", "microseconds", "min", "median", "p90", "p99", "n");
        print("raw QMP query-status round trip", rawQuery);
        print("raw QMP stop round trip", rawStop);
        print("raw QMP cont round trip", rawCont);
        print("driver.pause()", pause);
        print("driver.unpause()", unpause);
        print("PING -> PONG (running guest)", pingPong);
        print("unpause + PING -> PONG (booted guest)", contPing);
        print("unpause + ARGS -> RESULT (booted guest)", contArgs);
        print("create (start -> paused, reachable)", create);
        print("unpause -> READY (first boot)", contReady);
        print("create -> READY", createReady);
        print("destroy (QMP quit -> cleaned)", destroy);
    }

    private void spawnOnce(QemuDriver driver, Path kernel, String id, long[] create, long[] contReady, long[] createReady,
                           long[] destroy) throws Exception {
        spawnOnce(driver, kernel, id, create, contReady, createReady, destroy, 0);
    }

    private void spawnOnce(QemuDriver driver, Path kernel, String id, long[] create, long[] contReady, long[] createReady,
                           long[] destroy, int i) throws Exception {
        CompletableFuture<DomainEvent> ready = expect(id + "/READY");
        long a = System.nanoTime();
        driver.create(new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id)).get(30, TimeUnit.SECONDS);
        long b = System.nanoTime();
        driver.unpause(id).get();
        DomainEvent r = ready.get(10, TimeUnit.SECONDS);
        long c = System.nanoTime();
        driver.destroy(id).get(10, TimeUnit.SECONDS);
        long d = System.nanoTime();
        if (create != null) {
            create[i] = b - a;
            contReady[i] = r.nanoTime() - b;
            createReady[i] = r.nanoTime() - a;
            destroy[i] = d - c;
        }
    }

    private long ping(QemuDriver driver, String id, String token) throws Exception {
        for (int attempt = 0; ; attempt++) {
            String t = attempt == 0 ? token : token + "r" + attempt;
            CompletableFuture<DomainEvent> pong = expect(id + "/PONG/" + t);
            long a = System.nanoTime();
            driver.send(id, new GuestCommand.Ping(t)).get();
            try {
                return pong.get(attempt < 20 ? 500 : 5000, TimeUnit.MILLISECONDS).nanoTime() - a;
            } catch (java.util.concurrent.TimeoutException e) {
                if (attempt >= 20) throw e;
            }
        }
    }

    private static QemuDomain domainOf(QemuDriver driver, String id) throws Exception {
        var f = QemuDriver.class.getDeclaredField("domains");
        f.setAccessible(true);
        @SuppressWarnings("unchecked")
        var m = (java.util.Map<String, QemuDomain>) f.get(driver);
        return m.get(id);
    }

    private static void print(String what, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        System.out.printf(Locale.ROOT, "%-40s %9.1f %9.1f %9.1f %9.1f %6d%n", what, s[0] / 1e3, pct(s, 50) / 1e3,
                pct(s, 90) / 1e3, pct(s, 99) / 1e3, s.length);
    }

    private static long pct(long[] sorted, int p) {
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }
}
