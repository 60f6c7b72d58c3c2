package io.xenops.driver.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DomainState;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import io.xenops.hypercall.DomctlCodec;
import io.xenops.hypercall.PrivcmdTransport;
import io.xenops.hypercall.XenDomainInfo;
import io.xenops.hypercall.XenHypercalls;
import io.xenops.xenstore.client.XenStoreClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Xen driver against the real thing: runs inside dom0 of the nested Xen testbed
 * (integration-tests/xen), as root, with /dev/xen/privcmd, xenstored, xenconsoled and xl.
 *
 * <p>Not a host test: the name does not match Surefire's includes, and it is enabled only with
 * {@code -Dxenops.xen.dom0=true}, which the dom0 runner sets (integration-tests/xen NestedXenSuiteTest and
 * CXenstoredSuiteTest, hence public). Inside dom0 nothing is skipped: a missing device or kernel
 * fails with a message that says what is missing.
 *
 * <p>Every line prefixed {@code measure:} is a figure for docs/xen-driver.md.
 */
@EnabledIfSystemProperty(named = "xenops.xen.dom0", matches = "true", disabledReason = "runs inside the nested Xen's dom0 only")
@Timeout(900)
public class XenDriverInDom0 {
    /** Generous: a JVM under TCG in nested Xen is slow, and guests print their first line after seconds. */
    private static final long WAIT_SECONDS = 180;

    @TempDir
    Path tmp;

    private final BlockingQueue<DomainEvent> events = new LinkedBlockingQueue<>();

    private static Path kernel() {
        String p = System.getProperty("xenops.unikernel.hello", System.getProperty("xenops.kernel", ""));
        if (p.isBlank() || !Files.isRegularFile(Path.of(p))) {
            fail("the unikernel image is missing at '" + p + "' (set xenops.unikernel.hello; build the unikernel module first)");
        }
        return Path.of(p);
    }

    private static void requireXen() {
        for (String dev : List.of("/dev/xen/privcmd", "/run/xenstored/socket")) {
            if (!Files.exists(Path.of(dev))) fail(dev + " is missing: this test must run in dom0 of a Xen host");
        }
    }

    private XenDriver open(Path state) throws Exception {
        return open(XenConfig.defaults(state));
    }

    private XenDriver open(XenConfig config) throws Exception {
        XenDriver d = XenDriver.open(config.withCreateTimeout(java.time.Duration.ofSeconds(WAIT_SECONDS)));
        d.setListener(events::add);
        return d;
    }

    /** PING → PONG round trips over the domain's channel: {@code n} samples, printed as median and max. */
    private void pingRoundTrips(XenDriver d, String id, String channel, int n) throws Exception {
        long[] rtt = new long[n];
        for (int i = 0; i < n; i++) {
            String token = "rt" + i;
            long t0 = System.nanoTime();
            d.send(id, new GuestCommand.Ping(token)).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid pong = await(DomainEvent.GuestSaid.class,
                    e -> e.message().equals(new GuestMessage.Pong(token)), "PONG " + token, d, id);
            rtt[i] = pong.nanoTime() - t0;
        }
        java.util.Arrays.sort(rtt);
        System.out.printf("measure: PING to PONG (%s), median %d ms, max %d ms of %d, loadavg %s%n",
                channel, rtt[n / 2] / 1_000_000, rtt[n - 1] / 1_000_000, n, loadAverage());
    }

    private static XenStoreClient dom0Store() throws Exception {
        return XenStoreClient.connect(Path.of("/run/xenstored/socket"));
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /**
     * Proves which channel carried the protocol: with XENSTORE the guest's lines are the numbered nodes
     * under out/ and its console has the banner but no protocol line; with CONSOLE, out/ stays empty.
     */
    private static void assertCarriedBy(XenConfig.GuestChannel channel, int domid, XenDriver d, String id, List<String> outLines)
            throws Exception {
        String out = "/local/domain/" + domid + "/xenops/out";
        try (XenStoreClient xs = dom0Store()) {
            var b = xs.blocking(java.time.Duration.ofSeconds(30));
            assertThat(b.readStringIfExists("/local/domain/" + domid + "/xenops/channel"))
                    .contains(channel.name().toLowerCase(java.util.Locale.ROOT));
            if (channel == XenConfig.GuestChannel.XENSTORE) {
                // The driver removes each line once it has read the next: the newest stays, at its index.
                int last = outLines.size() - 1;
                OutLines.awaitOnlyNewest(xs, out, last, java.time.Duration.ofSeconds(30));
                assertThat(b.directory(out)).as("%s after %d lines", out, outLines.size()).containsExactly(Integer.toString(last));
                assertThat(b.readStringIfExists(out + "/" + last)).as("%s/%d", out, last).contains(outLines.get(last));
                // A driver that adopted the domain opened the pty after the banner; what it has must still be free
                // of protocol lines.
                assertThat(d.console(id)).doesNotContain("READY ").doesNotContain("RESULT ").doesNotContain("PONG ");
                if (!d.console(id).isEmpty()) assertThat(d.console(id)).contains("protocol on xenstore");
            } else {
                assertThat(b.directory(out)).as("nothing in %s on the console channel", out).isEmpty();
                assertThat(d.console(id)).contains("READY ");
            }
        }
    }

    /** Builds a PVH domain of {@code image}, unpauses it and waits for its READY; returns its domid. */
    private int bootToReady(XenDriver driver, String id, String image, Path kernel) throws Exception {
        DomainInfo info = driver.create(new DomainSpec(id, image, kernel, 4, 1, "xenops.id=" + id)).get(WAIT_SECONDS, TimeUnit.SECONDS);
        driver.unpause(id).get(10, TimeUnit.SECONDS);
        await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Ready, "READY", driver, id);
        return Integer.parseInt(info.details().get("domid"));
    }

    private <T extends DomainEvent> T await(Class<T> type, Predicate<T> test, String what, XenDriver d, String id) throws Exception {
        return await(type, test, what, d, id, WAIT_SECONDS);
    }

    private <T extends DomainEvent> T await(Class<T> type, Predicate<T> test, String what, XenDriver d, String id, long seconds)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            DomainEvent e = events.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(e) && test.test(type.cast(e))) return type.cast(e);
        }
        return fail("no " + what + " within " + seconds + " s" + diagnose(d, id));
    }

    /**
     * What decides where an answer was lost, gathered when one does not come: whether the command is in
     * {@code in/} with guest-readable permissions and the answer in {@code out/} (then the driver missed it),
     * the guest's console, Xen's view of the domain's vCPU ({@code upcall_pend}, {@code pause_flags}) and of
     * its event channels ({@code [pending/masked/selector]}), and what happens when the guest is poked with
     * one more command: if the lost answer comes with the poke's, the guest slept through an event.
     */
    private String diagnose(XenDriver d, String id) {
        StringBuilder sb = new StringBuilder("\n===== diagnosis for ").append(id).append(" at ").append(java.time.Instant.now())
                .append(", loadavg ").append(loadAverage()).append('\n');
        Optional<Integer> domid = d.list().stream().filter(i -> i.id().equals(id)).findFirst()
                .map(i -> Integer.parseInt(i.details().get("domid")));
        sb.append("--- driver: ").append(d.list()).append('\n');
        sb.append("--- driver's console of ").append(id).append(":\n").append(d.console(id)).append('\n');
        domid.ifPresent(dom -> {
            sb.append(shell("xenstore-ls -p /local/domain/" + dom + "/xenops"));
            // Which of the guest's ports is which, for the 'e' dump below.
            sb.append(shell("echo store $(xenstore-read /local/domain/" + dom + "/store/port) console $(xenstore-read /local/domain/"
                    + dom + "/console/port)"));
            try (XenHypercalls xen = new XenHypercalls(PrivcmdTransport.openDefault(), new DomctlCodec(DomctlCodec.INTERFACE_VERSION_4_17))) {
                XenDomainInfo a = xen.domainInfo(dom).orElseThrow();
                Thread.sleep(1000);
                XenDomainInfo b = xen.domainInfo(dom).orElseThrow();
                sb.append("--- getdomaininfo: paused=").append(b.paused()).append(" shutdown=").append(b.shutdown())
                        .append(" dying=").append(b.dying()).append(", vCPU time over 1 s: ")
                        .append((b.cpuTimeNs() - a.cpuTimeNs()) / 1000).append(" us\n");
            } catch (Exception e) {
                sb.append("--- getdomaininfo failed: ").append(e).append('\n');
            }
        });
        sb.append(shell("cat /var/log/xen/console/guest-xenops-" + id + ".log"));
        sb.append(shell("xl list; xl vcpu-list"));
        // 'q': each vCPU's upcall_pend, pause_flags (1 = blocked); 'e': each port as [pending/masked/selector].
        sb.append(shell("xl dmesg -c >/dev/null; xl debug-keys q; xl debug-keys e; xl dmesg | tail -n 400"));
        domid.ifPresent(dom -> {
            sb.append("--- poke: PING diag-poke sent; what the guest said in the next 30 s:\n");
            try {
                d.send(id, new GuestCommand.Ping("diag-poke")).get(10, TimeUnit.SECONDS);
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < until) {
                    DomainEvent e = events.poll(100, TimeUnit.MILLISECONDS);
                    if (e instanceof DomainEvent.GuestSaid g && g.id().equals(id)) sb.append("    ").append(g.message()).append('\n');
                }
            } catch (Exception e) {
                sb.append("    poke failed: ").append(e).append('\n');
            }
            sb.append(shell("xenstore-ls -p /local/domain/" + dom + "/xenops"));
        });
        String text = sb.append("===== end of diagnosis\n").toString();
        System.out.println(text);
        return text;
    }

    private static String shell(String command) {
        StringBuilder sb = new StringBuilder("--- $ ").append(command).append('\n');
        try {
            Process p = new ProcessBuilder("timeout", "60", "sh", "-c", command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
            sb.append(new String(out, java.nio.charset.StandardCharsets.UTF_8));
        } catch (Exception e) {
            sb.append("failed: ").append(e).append('\n');
        }
        return sb.toString();
    }

    @Test
    void hypercallsReachXen417() throws Exception {
        requireXen();
        try (XenHypercalls xen = new XenHypercalls(PrivcmdTransport.openDefault(), new DomctlCodec(DomctlCodec.INTERFACE_VERSION_4_17))) {
            assertThat(xen.version().major()).isEqualTo(4);
            assertThat(xen.version().minor()).isEqualTo(17);
            List<XenDomainInfo> all = xen.domains();
            assertThat(all).extracting(XenDomainInfo::domid).contains(0);
            assertThat(xen.domainInfo(0)).get().satisfies(i -> assertThat(i.dying()).isFalse());
            assertThat(xen.domainInfo(0x7fef)).isEmpty();
        }
    }

    @Test
    void xenStoreChannelIsTheDefaultOnPvhWithArgsPauseAdoptDestroy() throws Exception {
        requireXen();
        Path kernel = kernel();
        Path state = tmp.resolve("state");
        String id = "itest1";
        XenDriver driver = open(state);
        assertThat(XenConfig.defaults(state).channel()).isEqualTo(XenConfig.GuestChannel.XENSTORE);
        int domid;
        try {
            long t0 = System.nanoTime();
            DomainInfo info = driver.create(new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            long t1 = System.nanoTime();
            domid = Integer.parseInt(info.details().get("domid"));
            assertThat(info.state()).isEqualTo(DomainState.PAUSED);
            System.out.printf("create (xl create -p + attach): %d ms, type %s, domid %d%n", (t1 - t0) / 1_000_000, info.details().get("type"), domid);

            long u0 = System.nanoTime();
            driver.unpause(id).get(10, TimeUnit.SECONDS);
            long u1 = System.nanoTime();
            System.out.printf("unpause by hypercall: %d us%n", (u1 - u0) / 1_000);
            DomainEvent.GuestSaid ready = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Ready, "READY", driver, id);
            System.out.printf("measure: unpause to READY (xenstore, %s, first domain of the JVM): %d ms, loadavg %s%n",
                    info.details().get("type"), (ready.nanoTime() - u0) / 1_000_000, loadAverage());
            assertThat(ready.message()).isEqualTo(new GuestMessage.Ready("hello", id));

            long a0 = System.nanoTime();
            driver.send(id, new GuestCommand.Args("t1", "xen")).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid result = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Result, "RESULT", driver, id);
            System.out.printf("measure: ARGS to RESULT (xenstore): %d ms%n", (result.nanoTime() - a0) / 1_000_000);
            assertThat(result.message()).isEqualTo(new GuestMessage.Result("t1", "hello, xen"));
            assertCarriedBy(XenConfig.GuestChannel.XENSTORE, domid, driver, id, List.of("READY hello " + id, "RESULT t1 hello, xen"));
            pingRoundTrips(driver, id, "xenstore, pvh", 7);
            assertThat(events).as("each line is seen once").noneMatch(e -> e instanceof DomainEvent.GuestSaid g
                    && (g.message() instanceof GuestMessage.Ready || g.message() instanceof GuestMessage.Result));

            // Warm figures: the first call above includes FFM linkage and a cold JIT.
            long[] cycle = new long[20];
            for (int i = 0; i < cycle.length; i++) {
                long c0 = System.nanoTime();
                driver.pause(id).get(10, TimeUnit.SECONDS);
                driver.unpause(id).get(10, TimeUnit.SECONDS);
                cycle[i] = System.nanoTime() - c0;
            }
            java.util.Arrays.sort(cycle);
            System.out.printf("warm pause+unpause by hypercall: median %d us, max %d us (20 cycles)%n", cycle[10] / 1_000, cycle[19] / 1_000);

            driver.pause(id).get(10, TimeUnit.SECONDS);
            try (XenHypercalls xen = new XenHypercalls(PrivcmdTransport.openDefault(), new DomctlCodec(DomctlCodec.INTERFACE_VERSION_4_17))) {
                assertThat(xen.domainInfo(domid)).get().satisfies(i -> assertThat(i.paused()).as("paused by domctl").isTrue());
            }
        } finally {
            driver.close(); // the daemon "dies": the domain stays
        }

        XenDriver second = open(state);
        try {
            List<DomainInfo> adopted = second.adopt().get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertThat(adopted).extracting(DomainInfo::id, DomainInfo::state)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(id, DomainState.PAUSED));
            second.unpause(id).get(10, TimeUnit.SECONDS);
            long p0 = System.nanoTime();
            second.send(id, new GuestCommand.Ping("p1")).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid pong = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Pong, "PONG", second, id);
            System.out.printf("measure: PING to PONG (xenstore, adopted, after 21 pause/unpause cycles): %d ms%n", (pong.nanoTime() - p0) / 1_000_000);
            assertThat(pong.message()).isEqualTo(new GuestMessage.Pong("p1"));
            // The adopted driver continued both counters: the command is in/8, the answer out/9.
            List<String> expected = new java.util.ArrayList<>(List.of("READY hello " + id, "RESULT t1 hello, xen"));
            for (int i = 0; i < 7; i++) expected.add("PONG rt" + i);
            expected.add("PONG p1");
            assertCarriedBy(XenConfig.GuestChannel.XENSTORE, domid, second, id, expected);

            second.destroy(id).get(WAIT_SECONDS, TimeUnit.SECONDS);
            try (XenHypercalls xen = new XenHypercalls(PrivcmdTransport.openDefault(), new DomctlCodec(DomctlCodec.INTERFACE_VERSION_4_17));
                 XenStoreClient xs = XenStoreClient.connect(Path.of("/run/xenstored/socket"))) {
                Optional<XenDomainInfo> left = xen.domainInfo(domid);
                assertThat(left.isEmpty() || left.get().dying()).as("no live domain %d after destroy", domid).isTrue();
                assertThat(xs.exists("/local/domain/" + domid).get(10, TimeUnit.SECONDS)).as("XenStore home removed").isFalse();
            }
            assertThat(Path.of("/var/log/xen/console/guest-xenops-" + id + ".log")).doesNotExist();
            assertThat(state.resolve("domains/" + id)).doesNotExist();
        } finally {
            second.close();
        }
    }

    /**
     * Hunts a lost wakeup on the XenStore channel: one PVH domain answers a few hundred commands, each of
     * which must be answered, in order, within {@link #STRESS_ANSWER_SECONDS}. The commands come in the ways
     * that leave the guest a different window to miss its event in: the first right after READY, one at a
     * time (the guest is asleep when each arrives), written while the domain is paused and then unpaused,
     * written right after an unpause (the vCPU is waking up), and in bursts written back to back (events
     * coalesce). A missing answer fails with {@link #diagnose}.
     */
    @Test
    void xenStoreChannelStressNoCommandIsMissed() throws Exception {
        requireXen();
        Path kernel = kernel();
        XenDriver driver = open(tmp.resolve("state-stress"));
        String id = "stress1";
        int single = Integer.getInteger("xenops.stress.single", 80);
        int pausedSends = Integer.getInteger("xenops.stress.paused", 20);
        int bursts = Integer.getInteger("xenops.stress.bursts", 10);
        int burst = Integer.getInteger("xenops.stress.burst", 10);
        try {
            bootToReady(driver, id, "hello", kernel);
            Stress stress = new Stress(driver, id);
            long t0 = System.nanoTime();
            stress.roundTrip(false); // the first command right after READY: the one once missed on C xenstored
            for (int i = 0; i < single; i++) stress.roundTrip(i % 2 == 0);
            for (int i = 0; i < pausedSends; i++) {
                // Written while paused: the event is pending before the vCPU runs again.
                driver.pause(id).get(10, TimeUnit.SECONDS);
                List<GuestMessage> want = stress.send(1, i % 2 == 0);
                driver.unpause(id).get(10, TimeUnit.SECONDS);
                stress.expect(want);
                // Written right after the unpause: the vCPU is resuming from wherever the pause caught it.
                driver.pause(id).get(10, TimeUnit.SECONDS);
                driver.unpause(id).get(10, TimeUnit.SECONDS);
                stress.expect(stress.send(1, i % 2 == 1));
            }
            for (int i = 0; i < bursts; i++) stress.expect(stress.send(burst, i % 2 == 0));
            long t1 = System.nanoTime();
            long[] rtt = stress.rtt.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf("measure: stress on the XenStore channel (pvh): %d commands answered in %d ms; round trip "
                            + "median %d ms, p99 %d ms, max %d ms; loadavg %s%n",
                    stress.sent, (t1 - t0) / 1_000_000, rtt[rtt.length / 2] / 1_000_000,
                    rtt[(int) (rtt.length * 0.99)] / 1_000_000, rtt[rtt.length - 1] / 1_000_000, loadAverage());
            assertThat(stress.sent).isEqualTo(1 + single + 2 * pausedSends + bursts * burst);
            driver.destroy(id).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } finally {
            driver.close();
        }
    }

    /**
     * One boot answers more lines than xenstored lets a guest own: C xenstored refused {@code out/531} when
     * read lines stayed in place. The driver removes each line once the next one is read, so {@code out/}
     * ends with the newest line alone, and every answer arrives, in order.
     */
    @Test
    void xenStoreChannelOutlastsTheGuestsNodeQuota() throws Exception {
        requireXen();
        Path kernel = kernel();
        XenDriver driver = open(tmp.resolve("state-quota"));
        String id = "quota1";
        int bursts = Integer.getInteger("xenops.quota.bursts", 55);
        int burst = Integer.getInteger("xenops.quota.burst", 20);
        try {
            int domid = bootToReady(driver, id, "hello", kernel);
            Stress stress = new Stress(driver, id);
            long t0 = System.nanoTime();
            for (int i = 0; i < bursts; i++) stress.expect(stress.send(burst, i % 2 == 0));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("measure: %d commands over the XenStore channel in %d ms (bursts of %d); loadavg %s%n",
                    stress.sent, ms, burst, loadAverage());
            assertThat(stress.sent).isGreaterThan(1000);
            String out = "/local/domain/" + domid + "/xenops/out";
            try (XenStoreClient xs = dom0Store()) {
                // READY is out/0, so the last answer is out/<sent>.
                OutLines.awaitOnlyNewest(xs, out, stress.sent, java.time.Duration.ofSeconds(30));
                assertThat(xs.directory(out).get(10, TimeUnit.SECONDS)).as("out/ keeps the newest line alone").containsExactly(Integer.toString(stress.sent));
            }
            driver.destroy(id).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } finally {
            driver.close();
        }
    }

    /** Long enough for the slowest answer seen under TCG at load 30 (a few seconds) many times over. */
    private static final long STRESS_ANSWER_SECONDS = 60;

    /** Commands with unique tokens, and the answers they must get, in order. */
    private final class Stress {
        final XenDriver driver;
        final String id;
        final List<Long> rtt = new java.util.ArrayList<>();
        int sent;

        Stress(XenDriver driver, String id) {
            this.driver = driver;
            this.id = id;
        }

        /** Writes {@code n} commands back to back, PING or ARGS alternating from {@code pingFirst}. */
        List<GuestMessage> send(int n, boolean pingFirst) throws Exception {
            List<GuestMessage> want = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                String token = "s" + sent++;
                if ((i % 2 == 0) == pingFirst) {
                    driver.send(id, new GuestCommand.Ping(token)).get(10, TimeUnit.SECONDS);
                    want.add(new GuestMessage.Pong(token));
                } else {
                    driver.send(id, new GuestCommand.Args(token, "n" + sent)).get(10, TimeUnit.SECONDS);
                    want.add(new GuestMessage.Result(token, "hello, n" + sent));
                }
            }
            return want;
        }

        void roundTrip(boolean ping) throws Exception {
            long t0 = System.nanoTime();
            expect(send(1, ping));
            rtt.add(System.nanoTime() - t0);
        }

        /** The guest's next answers are exactly {@code want}, in order. */
        void expect(List<GuestMessage> want) throws Exception {
            for (GuestMessage m : want) {
                DomainEvent.GuestSaid got = await(DomainEvent.GuestSaid.class, e -> e.id().equals(id)
                        && !(e.message() instanceof GuestMessage.Other), m.toString(), driver, id, STRESS_ANSWER_SECONDS);
                assertThat(got.message()).as("the answer to the command that expects %s", m).isEqualTo(m);
            }
        }
    }

    @Test
    void consoleChannelStaysSelectable() throws Exception {
        requireXen();
        Path kernel = kernel();
        XenDriver driver = open(XenConfig.defaults(tmp.resolve("state-console")).withChannel(XenConfig.GuestChannel.CONSOLE));
        String id = "itest4";
        try {
            DomainInfo info = driver.create(new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            int domid = Integer.parseInt(info.details().get("domid"));
            long u0 = System.nanoTime();
            driver.unpause(id).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid ready = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Ready, "READY", driver, id);
            System.out.printf("measure: unpause to READY (console, %s): %d ms, loadavg %s%n",
                    info.details().get("type"), (ready.nanoTime() - u0) / 1_000_000, loadAverage());
            assertThat(ready.message()).isEqualTo(new GuestMessage.Ready("hello", id));
            long a0 = System.nanoTime();
            driver.send(id, new GuestCommand.Args("t4", "console")).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid result = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Result, "RESULT", driver, id);
            System.out.printf("measure: ARGS to RESULT (console): %d ms%n", (result.nanoTime() - a0) / 1_000_000);
            assertThat(result.message()).isEqualTo(new GuestMessage.Result("t4", "hello, console"));
            assertCarriedBy(XenConfig.GuestChannel.CONSOLE, domid, driver, id, List.of());
            pingRoundTrips(driver, id, "console, pvh", 7);
            driver.destroy(id).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } finally {
            driver.close();
        }
    }

    @Test
    void xenStoreChannelOnPv() throws Exception {
        requireXen();
        Path kernel = kernel();
        XenDriver driver = open(XenConfig.defaults(tmp.resolve("state-pv")).withType(XenConfig.DomainType.PV));
        String id = "itest5";
        try {
            DomainInfo info = driver.create(new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertThat(info.details()).containsEntry("type", "pv").containsEntry("channel", "xenstore");
            int domid = Integer.parseInt(info.details().get("domid"));
            long u0 = System.nanoTime();
            driver.unpause(id).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid ready = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Ready, "READY", driver, id);
            System.out.printf("measure: unpause to READY (xenstore, pv): %d ms, loadavg %s%n", (ready.nanoTime() - u0) / 1_000_000, loadAverage());
            assertThat(ready.message()).isEqualTo(new GuestMessage.Ready("hello", id));
            // Two commands written back to back: the guest drains in/ until ENOENT, whatever the events coalesce to.
            driver.send(id, new GuestCommand.Ping("p5")).get(10, TimeUnit.SECONDS);
            driver.send(id, new GuestCommand.Args("t5", "pv")).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid pong = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Pong, "PONG", driver, id);
            assertThat(pong.message()).isEqualTo(new GuestMessage.Pong("p5"));
            DomainEvent.GuestSaid result = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Result, "RESULT", driver, id);
            assertThat(result.message()).isEqualTo(new GuestMessage.Result("t5", "hello, pv"));
            assertCarriedBy(XenConfig.GuestChannel.XENSTORE, domid, driver, id, List.of("READY hello " + id, "PONG p5", "RESULT t5 hello, pv"));
            pingRoundTrips(driver, id, "xenstore, pv", 7);
            // Idle between commands means blocked in Xen, not spinning: the vCPU's time barely moves.
            try (XenHypercalls xen = new XenHypercalls(PrivcmdTransport.openDefault(), new DomctlCodec(DomctlCodec.INTERFACE_VERSION_4_17))) {
                long c0 = xen.domainInfo(domid).orElseThrow().cpuTimeNs();
                Thread.sleep(2000);
                long c1 = xen.domainInfo(domid).orElseThrow().cpuTimeNs();
                System.out.printf("measure: idle guest vCPU time over 2 s wall: %d us%n", (c1 - c0) / 1_000);
                assertThat(c1 - c0).as("vCPU ns used by an idle guest in 2 s").isLessThan(200_000_000L);
            }
            driver.destroy(id).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } finally {
            driver.close();
        }
    }

    @Test
    void exitAndCrashAreSeenThroughReleaseDomain() throws Exception {
        requireXen();
        Path kernel = kernel();
        XenDriver driver = open(tmp.resolve("state2"));
        try {
            String id = "itest2";
            long c0 = System.nanoTime();
            driver.create(new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            long c1 = System.nanoTime();
            driver.unpause(id).get(10, TimeUnit.SECONDS);
            await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Ready, "READY", driver, id);
            long x0 = System.nanoTime();
            driver.send(id, new GuestCommand.Exit(3)).get(10, TimeUnit.SECONDS);
            DomainEvent.Exited exited = await(DomainEvent.Exited.class, e -> e.id().equals(id), "Exited", driver, id);
            long x1 = System.nanoTime();
            System.out.printf("measure: create %d ms; EXIT sent to Exited event (@releaseDomain, teardown) %d ms, loadavg %s%n",
                    (c1 - c0) / 1_000_000, (x1 - x0) / 1_000_000, loadAverage());
            assertThat(exited.reason()).isEqualTo(DomainEvent.ExitReason.SHUTDOWN);
            assertThat(exited.detail()).isEqualTo("guest exited with code 3");
            assertThat(driver.list()).isEmpty();
            assertThat(tmp.resolve("state2/domains/" + id)).doesNotExist();

            String crashProperty = System.getProperty("xenops.crashKernel", "");
            if (crashProperty.isBlank() || !Files.isRegularFile(Path.of(crashProperty))) {
                fail("the crash test image is missing at '" + crashProperty + "' (set xenops.crashKernel)");
            }
            String cid = "itest3";
            bootToReady(driver, cid, "crash", Path.of(crashProperty));
            long k0 = System.nanoTime();
            driver.send(cid, new GuestCommand.Args("c1", "panic")).get(10, TimeUnit.SECONDS);
            DomainEvent.Exited crashed = await(DomainEvent.Exited.class, e -> e.id().equals(cid), "Exited", driver, cid);
            System.out.printf("measure: ARGS panic to Exited CRASHED %d ms%n", (System.nanoTime() - k0) / 1_000_000);
            assertThat(crashed.reason()).as("detail: %s", crashed.detail()).isEqualTo(DomainEvent.ExitReason.CRASHED);
            // The PANIC line travels xenconsoled's pty, @releaseDomain travels XenStore and can win (seen on C
            // xenstored): the driver waits for the line (or finds it in xenconsoled's log) before it classifies.
            assertThat(crashed.detail()).startsWith("PANIC crash app asked to panic");
            assertThat(Path.of("/var/log/xen/console/guest-xenops-" + cid + ".log")).doesNotExist();

            // A triple fault leaves no PANIC: the detail says where the vCPU was (xen-hvmctx, before the
            // destroy). The empty IDT the fixture loaded shows the registers are the guest's own.
            String tid = "itest5";
            bootToReady(driver, tid, "crash", Path.of(crashProperty));
            driver.send(tid, new GuestCommand.Args("c2", "triple")).get(10, TimeUnit.SECONDS);
            DomainEvent.Exited tripled = await(DomainEvent.Exited.class, e -> e.id().equals(tid), "Exited", driver, tid);
            System.out.printf("measure: triple fault detail: %s%n", tripled.detail());
            assertThat(tripled.reason()).as("detail: %s", tripled.detail()).isEqualTo(DomainEvent.ExitReason.CRASHED);
            assertThat(tripled.detail()).startsWith("Xen: triple fault (domain shut down with reason reboot) at rip 0x")
                    .matches(".*idtr 0x0(,.*|$)");
            assertThat(driver.list()).isEmpty();
        } finally {
            driver.close();
        }
    }
}
