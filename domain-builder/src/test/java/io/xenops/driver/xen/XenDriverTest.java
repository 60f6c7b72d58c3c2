package io.xenops.driver.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DomainState;
import io.xenops.driver.DriverException;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import io.xenops.hypercall.Domctl;
import io.xenops.hypercall.FakeXen;
import io.xenops.hypercall.XenDomainInfo;
import io.xenops.hypercall.XenHypercalls;
import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.error.PermissionDeniedException;
import io.xenops.xenstore.server.XenStoreServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The driver against an in-memory Xen (hypercalls decoded by the real codec), XenStore server, xl and ptys. */
@Timeout(60)
class XenDriverTest {
    @TempDir
    Path tmp;

    private final FakeXen fakeXen = new FakeXen();
    private final XenStoreServer server = new XenStoreServer();
    private final XenStoreClient dom0 = XenStoreClient.open(server.connect());
    private final XenStoreClient driverXs = XenStoreClient.open(server.connect());
    private final FakeConsoles consoles = new FakeConsoles();
    private final FakeToolstack xl = new FakeToolstack(fakeXen, server, dom0, consoles);
    private final BlockingQueue<DomainEvent> events = new LinkedBlockingQueue<>();
    private XenConfig config;
    private XenDriver driver;
    private Path kernel;

    @BeforeEach
    void setUp() throws Exception {
        kernel = Files.writeString(tmp.resolve("kernel.elf"), "not really an ELF: xl is fake");
        Files.createDirectories(tmp.resolve("console"));
        // The console channel unless a test says otherwise: most tests below play the guest on its pty.
        config = XenConfig.defaults(tmp.resolve("state")).withConsoleLogDir(tmp.resolve("console"))
                .withChannel(XenConfig.GuestChannel.CONSOLE);
        driver = newDriver(config);
    }

    private XenDriver newDriver(XenConfig c) {
        XenDriver d = new XenDriver(c, new XenHypercalls(fakeXen, FakeXen.CODEC), driverXs, xl, consoles);
        d.setListener(events::add);
        return d;
    }

    @AfterEach
    void tearDown() {
        driver.close();
        driverXs.close();
        dom0.close();
        server.close();
    }

    private DomainSpec spec(String id) {
        return new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id);
    }

    private int domid(DomainInfo info) {
        return Integer.parseInt(info.details().get("domid"));
    }

    private <T extends DomainEvent> T next(Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            DomainEvent e = events.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(e)) return type.cast(e);
        }
        throw new AssertionError("no " + type.getSimpleName() + " within 5 s");
    }

    private GuestMessage nextGuestMessage() throws InterruptedException {
        return next(DomainEvent.GuestSaid.class).message();
    }

    @Test
    void createRecordsFirstThenBuildsAPausedPvhDomain() throws Exception {
        DomainInfo info = driver.create(spec("a1")).join();
        assertThat(info.state()).isEqualTo(DomainState.PAUSED);
        assertThat(info.details()).containsEntry("name", "xenops-a1").containsEntry("type", "pvh");
        assertThat(xl.recordExistedAtCreate).containsExactly(true);
        assertThat(xl.configs.getFirst()).contains("type = \"pvh\"", "cmdline = \"xenops.id=a1\"", "memory = 4");
        String record = Files.readString(tmp.resolve("state/domains/a1/domain.json"));
        assertThat(record).contains("\"domid\":" + domid(info), "\"name\":\"xenops-a1\"");
        assertThat(fakeXen.get(domid(info)).paused()).isTrue();
        assertThat(fakeXen.requests()).doesNotContain(new Domctl.UnpauseDomain(domid(info)));
        assertThat(driver.list()).extracting(DomainInfo::id).containsExactly("a1");
    }

    @Test
    void pvhFailureFallsBackToPv() {
        xl.failingTypes.add("pvh");
        DomainInfo info = driver.create(spec("b1")).join();
        assertThat(info.details()).containsEntry("type", "pv");
        assertThat(xl.calls).containsExactly("create xenops-b1", "destroy xenops-b1", "create xenops-b1");
    }

    @Test
    void aFailedBuildLeavesNoRecord() {
        xl.failingTypes.add("pvh");
        xl.failingTypes.add("pv");
        assertThatThrownBy(() -> driver.create(spec("c1")).join()).hasCauseInstanceOf(DriverException.class)
                .hasMessageContaining("pvh: xl create: pvh is not supported here");
        assertThat(tmp.resolve("state/domains/c1")).doesNotExist();
        assertThat(driver.list()).isEmpty();
    }

    @Test
    void unpauseAndPauseAreHypercallsNotProcesses() throws Exception {
        DomainInfo info = driver.create(spec("d1")).join();
        int domid = domid(info);
        long xlCalls = xl.calls.size();
        driver.unpause("d1").join();
        assertThat(fakeXen.get(domid).paused()).isFalse();
        assertThat(driver.list().getFirst().state()).isEqualTo(DomainState.RUNNING);
        driver.pause("d1").join();
        driver.pause("d1").join(); // a second pause must not raise Xen's pause count
        assertThat(fakeXen.get(domid).paused()).isTrue();
        driver.unpause("d1").join();
        assertThat(fakeXen.get(domid).paused()).as("one unpause undoes the pauses").isFalse();
        assertThat(fakeXen.requests()).filteredOn(r -> !(r instanceof Domctl.GetDomainInfo)).containsExactly(
                new Domctl.UnpauseDomain(domid), new Domctl.PauseDomain(domid), new Domctl.UnpauseDomain(domid));
        assertThat(xl.calls).hasSize((int) xlCalls);
        assertThatThrownBy(() -> driver.unpause("nope").join()).hasCauseInstanceOf(DriverException.NoSuchDomain.class);
    }

    @Test
    void guestMessagesInXenStoreArriveThroughTheWatch() throws Exception {
        int domid = domid(driver.create(spec("e1")).join());
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(domid))) {
            String out = "/local/domain/" + domid + "/xenops/out";
            guest.write(out + "/0", "READY hello e1").join();
            assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Ready("hello", "e1"));
            guest.write(out + "/1", "PONG t1").join();
            guest.write(out + "/2", "RESULT t2 hello, world").join();
            assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Pong("t1"));
            assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Result("t2", "hello, world"));
            // The guest may read its id but may not write where the daemon writes.
            assertThat(guest.readString("/local/domain/" + domid + "/xenops/id").join()).isEqualTo("e1");
            assertThatThrownBy(() -> guest.write("/local/domain/" + domid + "/xenops/in/0", "READY x y").join())
                    .hasCauseInstanceOf(PermissionDeniedException.class);
        }
    }

    @Test
    void aGuestLineWhoseReadTimesOutIsReadAgainNotLost() throws Exception {
        driver.close();
        // The reply to the read of out/1 comes only after the blocking call has given up on it. The guest then
        // waits for its next command and writes nothing, so no later event would bring the line back.
        StallingTransport slow = new StallingTransport(server.connect(), p -> p.endsWith("/xenops/out/1"), java.time.Duration.ofSeconds(1));
        try (XenStoreClient xs = XenStoreClient.open(slow,
                io.xenops.xenstore.client.ClientOptions.defaults().withBlockingTimeout(java.time.Duration.ofMillis(200)))) {
            driver = new XenDriver(config.withChannel(XenConfig.GuestChannel.XENSTORE), new XenHypercalls(fakeXen, FakeXen.CODEC), xs, xl, consoles);
            driver.setListener(events::add);
            int domid = domid(driver.create(spec("s1")).join());
            try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(domid))) {
                String out = "/local/domain/" + domid + "/xenops/out";
                guest.write(out + "/0", "READY hello s1").join();
                assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Ready("hello", "s1"));
                // The driver looked for out/1 after READY and found nothing: it is idle, as before a RESULT.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (slow.absentReplies() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
                assertThat(slow.absentReplies()).isEqualTo(1);
                guest.write(out + "/1", "RESULT t1 hello, slow").join();
                assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Result("t1", "hello, slow"));
                assertThat(slow.stalled()).as("the reply came after the timeout").isTrue();
                guest.write(out + "/2", "PONG p2").join();
                assertThat(nextGuestMessage()).as("and the counter moved on once").isEqualTo(new GuestMessage.Pong("p2"));
            }
            driver.close();
        }
    }

    /** The guest writes {@code PONG t<i>} to {@code out/<i>} for i in [from, to), and the driver hears each, in order. */
    private void answerPongs(XenStoreClient guest, String out, int from, int to) throws InterruptedException {
        for (int i = from; i < to; i++) {
            guest.write(out + "/" + i, "PONG t" + i).join();
            assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Pong("t" + i));
        }
    }

    @Test
    void readLinesAreRemovedSoAGuestAnswersPastItsNodeQuota() throws Exception {
        driver.close();
        driver = newDriver(config.withChannel(XenConfig.GuestChannel.XENSTORE));
        int domid = domid(driver.create(spec("u1")).join());
        String out = "/local/domain/" + domid + "/xenops/out";
        // The server allows a guest 1000 nodes, as both xenstoreds do; lines left in place would run out first.
        int lines = 1500;
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(domid))) {
            answerPongs(guest, out, 0, lines);
        }
        OutLines.awaitOnlyNewest(dom0, out, lines - 1, java.time.Duration.ofSeconds(5));
        assertThat(dom0.directory(out).join()).as("only the newest line stays").containsExactly(Integer.toString(lines - 1));
    }

    @Test
    void anAdoptedDomainContinuesAfterItsNewestLineAndDropsLeftovers() throws Exception {
        driver.close();
        driver = newDriver(config.withChannel(XenConfig.GuestChannel.XENSTORE));
        int domid = domid(driver.create(spec("v1")).join());
        String out = "/local/domain/" + domid + "/xenops/out";
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(domid))) {
            answerPongs(guest, out, 0, 5);
            OutLines.awaitOnlyNewest(dom0, out, 4, java.time.Duration.ofSeconds(5));
            driver.close();
            // A daemon killed between reading a line and removing the one before leaves two behind.
            guest.write(out + "/3", "PONG t3").join();
            driver = newDriver(config.withChannel(XenConfig.GuestChannel.XENSTORE));
            assertThat(driver.adopt().join()).extracting(DomainInfo::id).containsExactly("v1");
            assertThat(dom0.directory(out).join()).containsExactly("4");
            guest.write(out + "/5", "PONG t5").join();
            assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Pong("t5"));
        }
    }

    @Test
    void consoleLinesAreEventsAndCommandsGoToTheConsole() throws Exception {
        int domid = domid(driver.create(spec("f1")).join());
        driver.unpause("f1").join();
        consoles.tty(domid).guestPrints("xenops runtime booting");
        consoles.tty(domid).guestPrints("READY hello f1");
        assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Other("xenops runtime booting"));
        assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Ready("hello", "f1"));
        driver.send("f1", new GuestCommand.Args("t9", "world")).join();
        assertThat(consoles.tty(domid).nextReceived()).isEqualTo("ARGS t9 world");
        assertThat(driver.console("f1")).contains("READY hello f1");
    }

    @Test
    void withTheXenStoreChannelCommandsAreNumberedNodesTheGuestCanRead() throws Exception {
        driver.close();
        driver = newDriver(config.withChannel(XenConfig.GuestChannel.XENSTORE));
        int domid = domid(driver.create(spec("g1")).join());
        driver.send("g1", new GuestCommand.Ping("p1")).join();
        driver.send("g1", new GuestCommand.Args("a1", "x y")).join();
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(domid))) {
            String in = "/local/domain/" + domid + "/xenops/in";
            assertThat(guest.readString(in + "/0").join()).isEqualTo("PING p1");
            assertThat(guest.readString(in + "/1").join()).isEqualTo("ARGS a1 x y");
        }
    }

    @Test
    void xenStoreIsTheDefaultChannel() {
        assertThat(XenConfig.defaults(tmp).channel()).isEqualTo(XenConfig.GuestChannel.XENSTORE);
    }

    @Test
    void theChannelIsWrittenForTheGuestToReadBeforeItBoots() throws Exception {
        int onConsole = domid(driver.create(spec("c1")).join());
        driver.close();
        driver = newDriver(config.withChannel(XenConfig.GuestChannel.XENSTORE));
        DomainInfo info = driver.create(spec("c2")).join();
        int onXenStore = domid(info);
        assertThat(info.details()).containsEntry("channel", "xenstore");
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(onXenStore))) {
            assertThat(guest.readString("/local/domain/" + onXenStore + "/xenops/channel").join()).isEqualTo("xenstore");
            assertThatThrownBy(() -> guest.write("/local/domain/" + onXenStore + "/xenops/channel", "console").join())
                    .hasCauseInstanceOf(PermissionDeniedException.class);
        }
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(onConsole))) {
            assertThat(guest.readString("/local/domain/" + onConsole + "/xenops/channel").join()).isEqualTo("console");
        }
    }

    @Test
    void aXenStoreGuestIsHeardOnceAndItsConsoleOnlyForLogAndPanic() throws Exception {
        driver.close();
        driver = newDriver(config.withChannel(XenConfig.GuestChannel.XENSTORE));
        int domid = domid(driver.create(spec("d1")).join());
        driver.unpause("d1").join();
        // What the runtime does: banner on the console, protocol in out/. An app printing a protocol-looking
        // line on the console must not count as an answer.
        consoles.tty(domid).guestPrints("xenops-rt 0.1.0: hello 0.1.0 on xen-pvh, protocol on xenstore");
        consoles.tty(domid).guestPrints("READY hello forged");
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(domid))) {
            guest.write("/local/domain/" + domid + "/xenops/out/0", "READY hello d1").join();
        }
        List<GuestMessage> seen = new java.util.ArrayList<>();
        DomainEvent e;
        while ((e = events.poll(500, TimeUnit.MILLISECONDS)) != null) {
            if (e instanceof DomainEvent.GuestSaid said) seen.add(said.message());
        }
        assertThat(seen).containsExactlyInAnyOrder(
                new GuestMessage.Other("xenops-rt 0.1.0: hello 0.1.0 on xen-pvh, protocol on xenstore"),
                new GuestMessage.Ready("hello", "d1"));
        assertThat(driver.console("d1")).as("the log keeps everything").contains("READY hello forged");
        consoles.tty(domid).guestPrints("PANIC page fault at 0x0");
        assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Other("PANIC page fault at 0x0"));
    }

    @Test
    void anAdoptedDomainKeepsTheChannelItBootedWith() throws Exception {
        driver.close();
        driver = newDriver(config.withChannel(XenConfig.GuestChannel.XENSTORE));
        int domid = domid(driver.create(spec("q1")).join());
        driver.send("q1", new GuestCommand.Ping("p0")).join();
        driver.close();
        driver = newDriver(config.withChannel(XenConfig.GuestChannel.CONSOLE));
        assertThat(driver.adopt().join()).extracting(i -> i.details().get("channel")).containsExactly("xenstore");
        driver.send("q1", new GuestCommand.Ping("p1")).join();
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(domid))) {
            assertThat(guest.readString("/local/domain/" + domid + "/xenops/in/1").join()).isEqualTo("PING p1");
        }
    }

    @Test
    void aCrashIsSeenThroughReleaseDomainAndCleanedUp() throws Exception {
        int domid = domid(driver.create(spec("h1")).join());
        driver.unpause("h1").join();
        consoles.tty(domid).guestPrints("PANIC page fault at 0x0");
        assertThat(nextGuestMessage()).isInstanceOf(GuestMessage.Other.class);
        fakeXen.shutdown(domid, XenDomainInfo.ShutdownReason.CRASH);
        server.releaseDomain(domid);
        DomainEvent.Exited exited = next(DomainEvent.Exited.class);
        assertThat(exited.id()).isEqualTo("h1");
        assertThat(exited.reason()).isEqualTo(DomainEvent.ExitReason.CRASHED);
        assertThat(exited.detail()).isEqualTo("PANIC page fault at 0x0");
        awaitGone("h1", domid);
        assertThat(driver.console("h1")).as("the tail outlives the domain").contains("PANIC");
    }

    @Test
    void aCrashSeenBeforeItsPanicLineWaitsForTheLine() throws Exception {
        int domid = domid(driver.create(spec("h2")).join());
        driver.unpause("h2").join();
        // @releaseDomain first, the PANIC line a moment later: the order the pty and XenStore raced to on C xenstored.
        fakeXen.shutdown(domid, XenDomainInfo.ShutdownReason.CRASH);
        server.releaseDomain(domid);
        Thread.sleep(300);
        consoles.tty(domid).guestPrints("PANIC stack overflow");
        DomainEvent.Exited exited = next(DomainEvent.Exited.class);
        assertThat(exited.reason()).isEqualTo(DomainEvent.ExitReason.CRASHED);
        assertThat(exited.detail()).isEqualTo("PANIC stack overflow");
        awaitGone("h2", domid);
    }

    @Test
    void aCrashWhosePanicLineIsOnlyInXenconsoledsLogTakesItFromThere() throws Exception {
        driver.close();
        driver = newDriver(config.withCrashDetailWait(java.time.Duration.ofSeconds(30)));
        // A log left by an earlier domain of the same name: xenconsoled appends to it, and its PANIC is not ours.
        Path log = Files.writeString(tmp.resolve("console/guest-xenops-h3.log"), "PANIC from an earlier life\n");
        int domid = domid(driver.create(spec("h3")).join());
        driver.unpause("h3").join();
        Files.writeString(log, "xenops-rt 0.1.0: crash on xen-pvh\nPANIC divide by zero\n", java.nio.file.StandardOpenOption.APPEND);
        fakeXen.shutdown(domid, XenDomainInfo.ShutdownReason.CRASH);
        long t0 = System.nanoTime();
        server.releaseDomain(domid);
        DomainEvent.Exited exited = next(DomainEvent.Exited.class);
        assertThat(exited.detail()).isEqualTo("PANIC divide by zero");
        assertThat(System.nanoTime() - t0).as("found in the log without waiting for the pty").isLessThan(TimeUnit.SECONDS.toNanos(5));
        awaitGone("h3", domid);
    }

    @Test
    void aTripleFaultIsACrashWithWhereTheVcpuWas() throws Exception {
        driver.close();
        driver = newDriver(config.withCrashDetailWait(java.time.Duration.ofMillis(300)));
        int domid = domid(driver.create(spec("h5")).join());
        driver.unpause("h5").join();
        xl.cpuStates.put(domid, new CpuState(java.util.Map.of("rip", 0x101234L)));
        // Xen's answer to a PVH guest's triple fault is a shutdown with reason reboot, which the runtime never asks for.
        fakeXen.shutdown(domid, XenDomainInfo.ShutdownReason.REBOOT);
        server.releaseDomain(domid);
        DomainEvent.Exited exited = next(DomainEvent.Exited.class);
        assertThat(exited.reason()).isEqualTo(DomainEvent.ExitReason.CRASHED);
        assertThat(exited.detail()).isEqualTo("Xen: triple fault (domain shut down with reason reboot) at rip 0x101234");
        assertThat(xl.calls.indexOf("cpu-state " + domid)).as("read before the domain is destroyed")
                .isLessThan(xl.calls.indexOf("destroy xenops-h5"));
        awaitGone("h5", domid);
    }

    @Test
    void aCrashWithoutPanicLineHasXensReasonAfterABoundedWait() throws Exception {
        driver.close();
        driver = newDriver(config.withCrashDetailWait(java.time.Duration.ofMillis(300)));
        Files.writeString(tmp.resolve("console/guest-xenops-h4.log"), "PANIC from an earlier life\n");
        int domid = domid(driver.create(spec("h4")).join());
        driver.unpause("h4").join();
        fakeXen.shutdown(domid, XenDomainInfo.ShutdownReason.CRASH);
        server.releaseDomain(domid);
        DomainEvent.Exited exited = next(DomainEvent.Exited.class);
        assertThat(exited.reason()).isEqualTo(DomainEvent.ExitReason.CRASHED);
        assertThat(exited.detail()).isEqualTo("Xen: domain shut down with reason crash");
        awaitGone("h4", domid);
    }

    @Test
    void poweroffAfterExitIsAShutdownWithTheCode() throws Exception {
        int domid = domid(driver.create(spec("i1")).join());
        driver.unpause("i1").join();
        driver.send("i1", new GuestCommand.Exit(3)).join();
        fakeXen.shutdown(domid, XenDomainInfo.ShutdownReason.POWEROFF);
        server.releaseDomain(domid);
        DomainEvent.Exited exited = next(DomainEvent.Exited.class);
        assertThat(exited.reason()).isEqualTo(DomainEvent.ExitReason.SHUTDOWN);
        assertThat(exited.detail()).isEqualTo("guest exited with code 3");
        awaitGone("i1", domid);
    }

    @Test
    void aDomainDestroyedBehindOurBackIsKilled() throws Exception {
        int domid = domid(driver.create(spec("j1")).join());
        xl.destroy("xenops-j1");
        DomainEvent.Exited exited = next(DomainEvent.Exited.class);
        assertThat(exited.reason()).isEqualTo(DomainEvent.ExitReason.KILLED);
        awaitGone("j1", domid);
    }

    @Test
    void destroyLeavesNoDomainNodeOrFileAndNoEvent() throws Exception {
        int domid = domid(driver.create(spec("k1")).join());
        Path log = Files.writeString(tmp.resolve("console/guest-xenops-k1.log"), "READY hello k1\n");
        driver.destroy("k1").join();
        assertThat(fakeXen.get(domid)).isNull();
        assertThat(dom0.exists("/local/domain/" + domid).join()).isFalse();
        assertThat(log).doesNotExist();
        assertThat(tmp.resolve("state/domains/k1")).doesNotExist();
        assertThat(driver.list()).isEmpty();
        driver.destroy("k1").join(); // again: harmless
        assertThat(events.poll(300, TimeUnit.MILLISECONDS)).as("destroy is answered by its future, not an event").isNull();
    }

    @Test
    void adoptAfterARestartTakesBackLiveDomainsAndCleansTheRest() throws Exception {
        int paused = domid(driver.create(spec("m1")).join());
        int running = domid(driver.create(spec("m2")).join());
        int gone = domid(driver.create(spec("m3")).join());
        driver.unpause("m2").join();
        driver.close(); // the daemon dies; its domains live on

        // Half-made: recorded, built by xl, but the daemon died before it noted the domid.
        new RecordStore(tmp.resolve("state/domains")).create(new XenDomainRecord(1, "m4", "hello", "xenops-m4",
                kernel.toString(), 4, 1, "", null, 0, null, null));
        int halfMade = xl.build("xenops-m4");
        // Gone while nobody watched.
        xl.gone(gone);
        xl.byName.remove("xenops-m3");

        driver = newDriver(config);
        List<DomainInfo> adopted = driver.adopt().join();
        assertThat(adopted).extracting(DomainInfo::id, DomainInfo::state)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("m1", DomainState.PAUSED),
                        org.assertj.core.groups.Tuple.tuple("m2", DomainState.RUNNING));
        assertThat(fakeXen.get(halfMade)).as("half-made domain destroyed").isNull();
        assertThat(tmp.resolve("state/domains/m4")).doesNotExist();
        assertThat(tmp.resolve("state/domains/m3")).doesNotExist();
        assertThat(xl.creates()).isEqualTo(3);

        // The adopted domains are fully reconnected: hypercalls, XenStore watch, console.
        driver.unpause("m1").join();
        assertThat(fakeXen.get(paused).paused()).isFalse();
        try (XenStoreClient guest = XenStoreClient.open(server.connectAsDomain(running))) {
            guest.write("/local/domain/" + running + "/xenops/out/0", "RESULT r1 after restart").join();
        }
        assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Result("r1", "after restart"));
        consoles.tty(paused).guestPrints("PONG c1");
        assertThat(nextGuestMessage()).isEqualTo(new GuestMessage.Pong("c1"));
        fakeXen.shutdown(running, XenDomainInfo.ShutdownReason.POWEROFF);
        server.releaseDomain(running);
        assertThat(next(DomainEvent.Exited.class).id()).isEqualTo("m2");
    }

    @Test
    void aHalfMadeDomainWhoseNameXenstoredLostIsFoundByItsRecordedUuid() throws Exception {
        DomainInfo info = driver.create(spec("w1")).join();
        XenDomainRecord rec = new RecordStore(tmp.resolve("state/domains")).read("w1").orElseThrow();
        assertThat(fakeXen.get(domid(info)).uuid()).as("xl was given the recorded handle").isEqualTo(rec.uuid());
        assertThat(xl.configs.getFirst()).contains("uuid = \"" + rec.uuid() + "\"");
        driver.close();

        // The daemon died while xl built w2: recorded with its UUID, built, domid never noted. Then xenstored
        // restarted: the name is gone from XenStore, so "xl destroy xenops-w2" finds nothing.
        String uuid = java.util.UUID.randomUUID().toString();
        new RecordStore(tmp.resolve("state/domains")).create(new XenDomainRecord(1, "w2", "hello", "xenops-w2",
                kernel.toString(), 4, 1, "", null, 0, null, uuid));
        int orphan = xl.build("xenops-w2", uuid);
        dom0.blocking().rm("/local/domain/" + orphan + "/name");
        xl.byName.remove("xenops-w2");

        driver = newDriver(config);
        assertThat(driver.adopt().join()).extracting(DomainInfo::id).containsExactly("w1");
        assertThat(fakeXen.get(orphan)).as("the orphan is destroyed by domid").isNull();
        assertThat(tmp.resolve("state/domains/w2")).doesNotExist();
    }

    @Test
    void badIdsAndDuplicatesAreRefused() {
        assertThatThrownBy(() -> driver.create(spec("-bad")).join()).hasCauseInstanceOf(DriverException.class);
        driver.create(spec("n1")).join();
        assertThatThrownBy(() -> driver.create(spec("n1")).join()).hasCauseInstanceOf(DriverException.class)
                .hasMessageContaining("exists");
        assertThat(xl.creates()).isEqualTo(1);
    }

    private void awaitGone(String id, int domid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && Files.exists(tmp.resolve("state/domains/" + id))) Thread.sleep(10);
        assertThat(tmp.resolve("state/domains/" + id)).doesNotExist();
        assertThat(fakeXen.get(domid)).isNull();
        assertThat(driver.list()).extracting(DomainInfo::id).doesNotContain(id);
        assertThat(dom0.exists("/local/domain/" + domid).join()).isFalse();
    }
}
