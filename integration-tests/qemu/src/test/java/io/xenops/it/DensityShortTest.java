package io.xenops.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short form of the density, storm and refill benchmarks ({@link DensityBench}), run in CI against the
 * real daemon and real QEMU, with this JVM as the load generator on loopback. It asserts invariants, not
 * speeds: nothing lost, nothing handed out twice, nothing left behind, no file descriptor leak, per-VM costs
 * within bounds, and spawn latency that does not grow with the pool's size beyond a generous factor.
 *
 * <p>The long form (10, 100, 1000 VMs) is {@code ./xenops bench density}. Bigger steps here:
 * {@code -Dxenops.density.steps=10,100,1000}.
 */
class DensityShortTest {
    private static final List<Integer> STEPS = parse(System.getProperty("xenops.density.steps", "10,50"));
    private static final int SAMPLES = Integer.getInteger("xenops.density.samples", 15);
    /** No 2-core host builds 1,280 QEMU VMs a second; a host that keeps up with that fails with the rows shown. */
    private static final double MAX_REFILL_RATE = 1280;
    private Path state;
    private DaemonProcess daemon;

    @BeforeAll
    static void built() {
        DaemonProcess.requireBuilt();
    }

    @BeforeEach
    void setUp() throws Exception {
        state = Files.createTempDirectory(Path.of("/tmp"), "xodshort-");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) daemon.stop();
        Qemus.killAll(state.toString());
    }

    private DensityBench start(String... args) throws Exception {
        daemon = new DaemonProcess(state, List.of(args));
        daemon.start(); // assigned first, so tearDown stops a daemon whose start timed out
        return new DensityBench(daemon);
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void densityStepsKeepEveryVmAndLatencyFlat() throws Exception {
        int max = STEPS.stream().mapToInt(Integer::intValue).max().orElseThrow();
        DensityBench bench = start("--pool", "hello=0,*=0", "--max-vms", Integer.toString(max + 20));
        DensityBench.DensityRun run = bench.density(STEPS, SAMPLES);

        List<DensityBench.DensityRow> rows = run.rows();
        assertThat(rows).hasSize(STEPS.size());
        List<String> all = new ArrayList<>();
        for (DensityBench.DensityRow r : rows) {
            assertThat(r.warmSpawn().n()).isEqualTo(SAMPLES);
            assertThat(r.ids()).hasSize(SAMPLES); // the bench already failed on a repeated id; this checks it counted them
            all.addAll(r.ids());
            // Measured 10.1 MiB with memfd guest RAM (12.1 before); well above that means a regression.
            assertThat(r.pssPerVmMiB()).as("QEMU PSS per paused VM, MiB").isLessThan(16.0);
            // Each pooled VM costs the daemon a QMP and a console socket and little else.
            assertThat((double) (r.daemonFds() - run.baseline().fdsBefore()) / r.vms()).as("daemon fds per VM").isLessThanOrEqualTo(4.0);
        }
        assertThat(all).doesNotHaveDuplicates();
        DensityBench.DensityRow first = rows.getFirst(), last = rows.getLast();
        // Latency must not grow with the count. The host is shared and loaded, so the bound is generous: five
        // times the smallest step's median plus 100 ms.
        assertThat(last.warmSpawn().p50()).as("warm spawn p50 (µs) at %d VMs vs %d VMs (%s vs %s)", last.vms(), first.vms(),
                last.warmSpawn(), first.warmSpawn()).isLessThan(5 * first.warmSpawn().p50() + 100_000);
        // Emptied: no QEMU, no VM, and the daemon's descriptors back where they started.
        assertThat(run.baseline().qemusAfter()).isZero();
        assertThat(run.baseline().vmsListedAfter()).isZero();
        assertThat(run.baseline().fdsAfter()).as("daemon fds after the pool emptied").isLessThanOrEqualTo(run.baseline().fdsBefore() + 10);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void stormAgainstASmallPoolAnswersEveryRequestOnce() throws Exception {
        int pool = 20, n = 60;
        // --max-vms equal to the pool: while the storm's VMs live, no refill can start, so exactly `pool` are warm
        // however fast this host builds (a fast host could otherwise refill a few mid-storm and make it 21 warm).
        DensityBench bench = start("--pool", "hello=0,*=0", "--cold-spawn", "false", "--max-vms", Integer.toString(pool));
        DensityBench.StormRow r = bench.storm(pool, n, 100);
        assertThat(r.warm()).isEqualTo(pool);
        assertThat(r.unavailable()).isEqualTo(n - pool);
        assertThat(r.other()).isZero();
        assertThat(r.distinctIds()).isEqualTo(pool);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void refillUnderSustainedLoadLosesNothing() throws Exception {
        DensityBench bench = start("--pool", "hello=0,*=0", "--cold-spawn", "false", "--max-vms", "200");
        List<DensityBench.RefillRow> rows = new ArrayList<>(bench.refill(10, List.of(2.0, 20.0), 5));
        // The offered rate goes up until the pool runs dry. How fast a host builds decides where: a loaded 2-core
        // machine ran dry at 20/s, a quiet one with KVM kept up with 20/s (CI, 2026-11-27). A cap keeps it bounded.
        double rate = rows.getLast().offeredPerSecond();
        while (rows.getLast().unavailable() == 0 && rate < MAX_REFILL_RATE) {
            rate *= 4;
            rows.addAll(bench.refill(10, List.of(rate), 5));
        }
        for (DensityBench.RefillRow r : rows) {
            assertThat(r.warm() + r.unavailable()).as("every spawn answered warm or 503 at %.0f/s", r.offeredPerSecond())
                    .isEqualTo(r.offered());
        }
        // The refill made progress while it was drained. Not per rate: at 20/s on a loaded 2-core host no build
        // finished within the 5 s window (seen: 0 built, 88 of 100 answered 503).
        assertThat(rows.stream().mapToInt(DensityBench.RefillRow::built).sum()).as("VMs built during the windows").isPositive();
        // Past the rate the host can build at, the pool must run dry and say so with 503s rather than queue
        // without bound.
        assertThat(rows.getLast().unavailable()).as("503s at %.0f/s, the highest rate offered (rows: %s)", rate, rows).isPositive();
        daemon.json("PUT", "/v1/pools/hello", "{\"target\":0}", 200);
        DaemonProcess.eventually(java.time.Duration.ofSeconds(60), () -> Qemus.mentioning(state.toString()).isEmpty());
        assertThat(daemon.json("GET", "/v1/vms", null, 200).get("vms").size()).isZero();
    }

    private static List<Integer> parse(String s) {
        List<Integer> out = new ArrayList<>();
        for (String p : s.split(",")) out.add(Integer.parseInt(p.trim()));
        return out;
    }
}
