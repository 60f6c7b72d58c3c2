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
 * {@code -Dxenops.xen.dom0=true}, which the dom0 runner sets. Inside dom0 nothing is skipped: a missing
 * device or kernel fails with a message that says what is missing.
 */
@EnabledIfSystemProperty(named = "xenops.xen.dom0", matches = "true", disabledReason = "runs inside the nested Xen's dom0 only")
@Timeout(900)
class XenDriverInDom0 {
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
        XenDriver d = XenDriver.open(XenConfig.defaults(state).withCreateTimeout(java.time.Duration.ofSeconds(WAIT_SECONDS)));
        d.setListener(events::add);
        return d;
    }

    private <T extends DomainEvent> T await(Class<T> type, Predicate<T> test, String what, XenDriver d, String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (System.nanoTime() < deadline) {
            DomainEvent e = events.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(e) && test.test(type.cast(e))) return type.cast(e);
        }
        return fail("no " + what + " within " + WAIT_SECONDS + " s; console of " + id + ":\n" + d.console(id));
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
    void createUnpauseReadyArgsPauseAdoptDestroy() throws Exception {
        requireXen();
        Path kernel = kernel();
        Path state = tmp.resolve("state");
        String id = "itest1";
        XenDriver driver = open(state);
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
            System.out.printf("unpause to READY (console pty): %d ms%n", (ready.nanoTime() - u0) / 1_000_000);
            assertThat(ready.message()).isEqualTo(new GuestMessage.Ready("hello", id));

            driver.send(id, new GuestCommand.Args("t1", "xen")).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid result = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Result, "RESULT", driver, id);
            assertThat(result.message()).isEqualTo(new GuestMessage.Result("t1", "hello, xen"));

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
            second.send(id, new GuestCommand.Ping("p1")).get(10, TimeUnit.SECONDS);
            DomainEvent.GuestSaid pong = await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Pong, "PONG", second, id);
            assertThat(pong.message()).isEqualTo(new GuestMessage.Pong("p1"));

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

    @Test
    void exitAndCrashAreSeenThroughReleaseDomain() throws Exception {
        requireXen();
        Path kernel = kernel();
        XenDriver driver = open(tmp.resolve("state2"));
        try {
            String id = "itest2";
            driver.create(new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            driver.unpause(id).get(10, TimeUnit.SECONDS);
            await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Ready, "READY", driver, id);
            driver.send(id, new GuestCommand.Exit(3)).get(10, TimeUnit.SECONDS);
            DomainEvent.Exited exited = await(DomainEvent.Exited.class, e -> e.id().equals(id), "Exited", driver, id);
            assertThat(exited.reason()).isEqualTo(DomainEvent.ExitReason.SHUTDOWN);
            assertThat(exited.detail()).isEqualTo("guest exited with code 3");
            assertThat(driver.list()).isEmpty();
            assertThat(tmp.resolve("state2/domains/" + id)).doesNotExist();

            String crashProperty = System.getProperty("xenops.crashKernel", "");
            if (crashProperty.isBlank() || !Files.isRegularFile(Path.of(crashProperty))) {
                fail("the crash test image is missing at '" + crashProperty + "' (set xenops.crashKernel)");
            }
            String cid = "itest3";
            driver.create(new DomainSpec(cid, "crash", Path.of(crashProperty), 4, 1, "xenops.id=" + cid)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            driver.unpause(cid).get(10, TimeUnit.SECONDS);
            await(DomainEvent.GuestSaid.class, e -> e.message() instanceof GuestMessage.Ready, "READY", driver, cid);
            driver.send(cid, new GuestCommand.Args("c1", "panic")).get(10, TimeUnit.SECONDS);
            DomainEvent.Exited crashed = await(DomainEvent.Exited.class, e -> e.id().equals(cid), "Exited", driver, cid);
            assertThat(crashed.reason()).as("detail: %s", crashed.detail()).isEqualTo(DomainEvent.ExitReason.CRASHED);
            assertThat(crashed.detail()).startsWith("PANIC");
            assertThat(Path.of("/var/log/xen/console/guest-xenops-" + cid + ".log")).doesNotExist();
        } finally {
            driver.close();
        }
    }
}
