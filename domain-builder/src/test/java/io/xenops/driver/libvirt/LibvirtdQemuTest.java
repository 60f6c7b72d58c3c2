package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainSpec;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.libvirt.DomainInfo.DomainState;

/**
 * The driver against a real libvirtd with the QEMU driver, started by the tests on this machine
 * ({@link Libvirtd}), running the project's unikernel: READY, PING/PONG, ARGS/RESULT and EXIT over the
 * serial console, ends reported from libvirt's events, adoption after a restart of the daemon and of
 * libvirtd itself. The host is a shared 2-core machine, so waits are generous; the assertions are not.
 */
class LibvirtdQemuTest {
    private static final String PREFIX = "xit-";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static Libvirtd libvirtd;
    private static LibvirtEventLoop loop;
    private static Connect operator;
    private static Path work;

    @TempDir
    Path state;

    private final List<LibvirtDriver> drivers = new ArrayList<>();
    private final BlockingQueue<DomainEvent> events = new LinkedBlockingQueue<>();

    @BeforeAll
    static void startLibvirtd() throws Exception {
        work = Files.createTempDirectory(Path.of("/tmp"), "xlvit-");
        libvirtd = Libvirtd.start(work.resolve("logs"), PREFIX);
        loop = new LibvirtEventLoop();
        operator = new Connect(Libvirtd.URI);
    }

    @AfterAll
    static void stopLibvirtd() throws Exception {
        try {
            if (operator != null) operator.close();
            if (loop != null) loop.close();
        } finally {
            if (libvirtd != null) libvirtd.close();
        }
        assertThat(Libvirtd.qemuPids(PREFIX)).as("QEMU processes left behind").isEmpty();
    }

    @BeforeEach
    void clear() {
        events.clear();
    }

    @AfterEach
    void closeDrivers() throws Exception {
        for (LibvirtDriver d : drivers) {
            for (DomainInfo i : d.list()) d.destroy(i.id()).get(60, TimeUnit.SECONDS);
            d.close();
        }
    }

    private LibvirtDriver driver() {
        LibvirtDriver d = new LibvirtDriver(LibvirtConfig.defaults(Libvirtd.URI, state).withNamePrefix(PREFIX)
                .withCreateTimeout(WAIT).withCallTimeout(WAIT).withReconnectDelay(Duration.ofMillis(200)), loop);
        d.setListener(events::add);
        drivers.add(d);
        return d;
    }

    private static String newId() {
        return "vm-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(0, 12);
    }

    private DomainSpec spec(String id, String kind, String app) throws Exception {
        return new DomainSpec(id, app, Unikernels.kernel(kind, app, state.resolve("kernels")), 4, 1, "xenops.id=" + id);
    }

    private static <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** The next event for {@code id} that matches, skipping others (boot banner lines). */
    private DomainEvent next(String id, Predicate<DomainEvent> match) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            DomainEvent e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (e == null) throw new AssertionError("no matching event for " + id + " within " + WAIT);
            if (e.id().equals(id) && match.test(e)) return e;
        }
    }

    private GuestMessage said(String id, Class<? extends GuestMessage> type) throws InterruptedException {
        return ((DomainEvent.GuestSaid) next(id, e -> e instanceof DomainEvent.GuestSaid g && type.isInstance(g.message()))).message();
    }

    private DomainEvent.Exited exited(String id) throws InterruptedException {
        return (DomainEvent.Exited) next(id, e -> e instanceof DomainEvent.Exited);
    }

    private static DomainState libvirtState(String id) throws Exception {
        return operator.domainLookupByName(PREFIX + id).getInfo().state;
    }

    private static void eventually(String what, java.util.concurrent.Callable<Boolean> cond) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!cond.call()) {
            if (System.nanoTime() > deadline) throw new AssertionError(what + " within " + WAIT);
            Thread.sleep(50);
        }
    }

    private static boolean qemuRunning(String id) throws Exception {
        return !Libvirtd.qemuPids(PREFIX + id).isEmpty();
    }

    @Test
    void spawnsTheUnikernelPausedAndSpeaksItsLineProtocol() throws Exception {
        LibvirtDriver driver = driver();
        assertThat(driver.target().hypervisor()).isEqualTo(Hypervisor.QEMU);
        assertThat(driver.target().machine()).isEqualTo("microvm");
        String id = newId();

        DomainInfo info = await(driver.create(spec(id, "images", "hello")));

        assertThat(info.state()).isEqualTo(io.xenops.driver.DomainState.PAUSED);
        assertThat(libvirtState(id)).isEqualTo(DomainState.VIR_DOMAIN_PAUSED);
        String xml = operator.domainLookupByName(PREFIX + id).getXMLDesc(0);
        assertThat(xml).contains("machine='microvm'").contains("<serial type='unix'>").doesNotContain("<disk").doesNotContain("<interface");
        assertThat(events.poll(300, TimeUnit.MILLISECONDS)).as("a paused guest says nothing").isNull();

        await(driver.unpause(id));
        GuestMessage.Ready ready = (GuestMessage.Ready) said(id, GuestMessage.Ready.class);
        assertThat(ready).isEqualTo(new GuestMessage.Ready("hello", id));
        assertThat(libvirtState(id)).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);

        await(driver.send(id, new GuestCommand.Ping("p1")));
        assertThat(said(id, GuestMessage.Pong.class)).isEqualTo(new GuestMessage.Pong("p1"));
        await(driver.send(id, new GuestCommand.Args("a1", "libvirt")));
        assertThat(said(id, GuestMessage.Result.class)).isEqualTo(new GuestMessage.Result("a1", "hello, libvirt"));

        // Paused, the guest hears nothing; resumed, it answers what was queued.
        await(driver.pause(id));
        assertThat(libvirtState(id)).isEqualTo(DomainState.VIR_DOMAIN_PAUSED);
        await(driver.send(id, new GuestCommand.Ping("p2")));
        assertThat(events.poll(300, TimeUnit.MILLISECONDS)).isNull();
        await(driver.unpause(id));
        assertThat(said(id, GuestMessage.Pong.class)).isEqualTo(new GuestMessage.Pong("p2"));
        assertThat(driver.console(id)).contains("READY hello " + id).contains("PONG p2");

        await(driver.send(id, new GuestCommand.Exit(0)));
        DomainEvent.Exited x = exited(id);
        assertThat(x.reason()).isEqualTo(DomainEvent.ExitReason.SHUTDOWN);
        assertThat(x.detail()).contains("code 0");
        eventually("QEMU gone", () -> !qemuRunning(id));
        eventually("record removed", () -> !Files.exists(state.resolve("domains").resolve(id)));
        assertThat(driver.list()).isEmpty();
        assertThat(driver.console(id)).contains("READY hello " + id); // the tail outlives the domain
    }

    @Test
    void aPanickingGuestIsReportedCrashedWithItsPanicLine() throws Exception {
        LibvirtDriver driver = driver();
        String id = newId();
        await(driver.create(spec(id, "test-images", "crash")));
        await(driver.unpause(id));
        said(id, GuestMessage.Ready.class);

        await(driver.send(id, new GuestCommand.Args("t", "panic")));

        DomainEvent.Exited x = exited(id);
        assertThat(x.reason()).isEqualTo(DomainEvent.ExitReason.CRASHED);
        assertThat(x.detail()).startsWith("PANIC ").contains("crash app asked to panic");
        eventually("QEMU gone", () -> !qemuRunning(id));
    }

    @Test
    void aKilledQemuIsReportedKilled() throws Exception {
        LibvirtDriver driver = driver();
        String id = newId();
        await(driver.create(spec(id, "images", "hello")));
        await(driver.unpause(id));
        said(id, GuestMessage.Ready.class);
        List<Long> pids = Libvirtd.qemuPids(PREFIX + id);
        assertThat(pids).hasSize(1);

        ProcessHandle.of(pids.getFirst()).orElseThrow().destroyForcibly();

        DomainEvent.Exited x = exited(id);
        assertThat(x.reason()).isEqualTo(DomainEvent.ExitReason.KILLED);
        eventually("record removed", () -> !Files.exists(state.resolve("domains").resolve(id)));
    }

    @Test
    void destroyEndsQemuQuietly() throws Exception {
        LibvirtDriver driver = driver();
        String id = newId();
        await(driver.create(spec(id, "images", "hello")));
        assertThat(qemuRunning(id)).isTrue();

        await(driver.destroy(id));

        assertThat(qemuRunning(id)).isFalse(); // virDomainDestroy returns once QEMU is dead
        assertThat(state.resolve("domains").resolve(id)).doesNotExist();
        assertThat(events.poll(500, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void adoptsPooledAndRunningDomainsAfterADaemonRestart() throws Exception {
        LibvirtDriver first = driver();
        String pooled = newId();
        String running = newId();
        // A pool member as the daemon makes one: created paused, booted to READY, paused again.
        await(first.create(spec(pooled, "images", "hello")));
        await(first.unpause(pooled));
        said(pooled, GuestMessage.Ready.class);
        await(first.pause(pooled));
        await(first.create(spec(running, "images", "hello")));
        await(first.unpause(running));
        said(running, GuestMessage.Ready.class);
        first.close();
        drivers.remove(first);

        LibvirtDriver second = driver();
        List<DomainInfo> adopted = await(second.adopt());

        assertThat(adopted).extracting(DomainInfo::id, DomainInfo::state).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(pooled, io.xenops.driver.DomainState.PAUSED),
                org.assertj.core.groups.Tuple.tuple(running, io.xenops.driver.DomainState.RUNNING));
        // The console is reconnected: the adopted guests answer.
        await(second.send(running, new GuestCommand.Ping("r1")));
        assertThat(said(running, GuestMessage.Pong.class)).isEqualTo(new GuestMessage.Pong("r1"));
        await(second.unpause(pooled));
        await(second.send(pooled, new GuestCommand.Args("a", "again")));
        assertThat(said(pooled, GuestMessage.Result.class)).isEqualTo(new GuestMessage.Result("a", "hello, again"));
        // And their ends are reported through the new driver's event registration.
        await(second.send(running, new GuestCommand.Exit(3)));
        DomainEvent.Exited x = exited(running);
        assertThat(x.reason()).isEqualTo(DomainEvent.ExitReason.SHUTDOWN);
        assertThat(x.detail()).contains("code 3");
        await(second.destroy(pooled));
        assertThat(qemuRunning(pooled)).isFalse();
    }

    @Test
    void reconnectsWhenTheConnectionToLibvirtdIsLost() throws Exception {
        LibvirtDriver driver = driver();
        String id = newId();
        await(driver.create(spec(id, "images", "hello")));
        await(driver.unpause(id));
        said(id, GuestMessage.Ready.class);
        await(driver.pause(id));

        if (libvirtd.ownsDaemon()) {
            libvirtd.restartDaemon(); // what an upgrade of libvirt does; QEMU keeps running
            operator.close();
            operator = new Connect(Libvirtd.URI);
        } else {
            disconnectOurClients(); // someone else's libvirtd: cut only this JVM's connections
            operator = new Connect(Libvirtd.URI);
        }

        // Calls fail while the driver reconnects, then work again; resync found the domain paused.
        eventually("unpause after reconnecting", () -> {
            try {
                driver.unpause(id).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                return true;
            } catch (java.util.concurrent.ExecutionException e) {
                return false;
            }
        });
        assertThat(libvirtState(id)).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);
        await(driver.send(id, new GuestCommand.Ping("after")));
        assertThat(said(id, GuestMessage.Pong.class)).isEqualTo(new GuestMessage.Pong("after"));
        // Events flow on the new connection.
        operator.domainLookupByName(PREFIX + id).destroy();
        assertThat(exited(id).reason()).isEqualTo(DomainEvent.ExitReason.KILLED);
    }

    private static void disconnectOurClients() throws Exception {
        String me = Long.toString(ProcessHandle.current().pid());
        Libvirtd.Cmd list = Libvirtd.Cmd.run(Duration.ofSeconds(30), "virt-admin", "srv-clients-list", "libvirtd");
        for (String line : list.out().split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length == 0 || !f[0].chars().allMatch(Character::isDigit) || f[0].isEmpty()) continue;
            Libvirtd.Cmd info = Libvirtd.Cmd.run(Duration.ofSeconds(30), "virt-admin", "client-info", "libvirtd", f[0]);
            if (info.out().matches("(?s).*unix_process_id\\s*:\\s*" + me + "\\b.*")) {
                Libvirtd.Cmd.run(Duration.ofSeconds(30), "virt-admin", "client-disconnect", "libvirtd", f[0]);
            }
        }
    }
}
