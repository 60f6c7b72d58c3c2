package io.xenops.driver.qemu;

import static io.xenops.driver.qemu.QemuTestSupport.assertNoTrace;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainEvent.ExitReason;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DomainState;
import io.xenops.driver.DriverException;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The QEMU driver against real QEMU processes booting the real unikernel. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QemuDriverTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path state;

    Path kernel;
    QemuTestSupport.Events events;
    QemuDriver driver;

    @BeforeEach
    void setUp() {
        kernel = QemuTestSupport.kernel();
        events = new QemuTestSupport.Events();
        driver = newDriver();
    }

    QemuDriver newDriver() {
        QemuDriver d = new QemuDriver(QemuTestSupport.config(state));
        d.setListener(events);
        return d;
    }

    @AfterEach
    void tearDown() throws Exception {
        driver.close();
        int leaked = QemuTestSupport.killAll(state);
        assertThat(leaked).as("QEMU processes a test left running").isZero();
    }

    DomainSpec spec(String id) {
        return new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id);
    }

    @Test
    void lifecycleFromCreateToDestroy() throws Exception {
        DomainInfo info = driver.create(spec("vm1")).get(30, TimeUnit.SECONDS);
        assertThat(info.state()).isEqualTo(DomainState.PAUSED);
        long pid = Long.parseLong(info.details().get("pid"));
        assertThat(ProcessHandle.of(pid)).isPresent();
        Path dir = state.resolve("domains/vm1");
        assertThat(dir.resolve("domain.json")).exists();
        DomainRecord rec = new ObjectMapper().readValue(dir.resolve("domain.json").toFile(), DomainRecord.class);
        assertThat(rec.pid()).isEqualTo(pid);
        assertThat(driver.list()).extracting(DomainInfo::id).containsExactly("vm1");

        driver.unpause("vm1").get(5, TimeUnit.SECONDS);
        assertThat(events.awaitGuest("vm1", GuestMessage.Ready.class, WAIT)).isEqualTo(new GuestMessage.Ready("hello", "vm1"));
        assertThat(driver.list().getFirst().state()).isEqualTo(DomainState.RUNNING);

        driver.pause("vm1").get(5, TimeUnit.SECONDS);
        assertThat(driver.list().getFirst().state()).isEqualTo(DomainState.PAUSED);
        driver.unpause("vm1").get(5, TimeUnit.SECONDS);

        driver.send("vm1", new GuestCommand.Ping("p1")).get(5, TimeUnit.SECONDS);
        assertThat(events.awaitGuest("vm1", GuestMessage.Pong.class, WAIT)).isEqualTo(new GuestMessage.Pong("p1"));
        driver.send("vm1", new GuestCommand.Args("a1", "world")).get(5, TimeUnit.SECONDS);
        GuestMessage result = events.awaitGuest("vm1", GuestMessage.Result.class, WAIT);
        assertThat(((GuestMessage.Result) result).token()).isEqualTo("a1");

        assertThat(driver.console("vm1")).contains("READY hello vm1");

        driver.destroy("vm1").get(10, TimeUnit.SECONDS);
        assertNoTrace(state, "vm1");
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));
        assertThat(driver.list()).isEmpty();
        driver.destroy("vm1").get(10, TimeUnit.SECONDS); // idempotent
        assertThat(events.all).noneMatch(e -> e instanceof DomainEvent.Exited); // destroy is not an exit
    }

    @Test
    void guestExitIsReportedAsShutdownAndCleansUp() throws Exception {
        driver.create(spec("vm2")).get(30, TimeUnit.SECONDS);
        driver.unpause("vm2").get(5, TimeUnit.SECONDS);
        events.awaitGuest("vm2", GuestMessage.Ready.class, WAIT);
        long t0 = System.nanoTime();
        driver.send("vm2", new GuestCommand.Exit(3)).get(5, TimeUnit.SECONDS);
        DomainEvent.Exited exit = events.awaitExit("vm2", WAIT);
        assertThat(exit.reason()).isEqualTo(ExitReason.SHUTDOWN);
        assertThat(exit.detail()).contains("code 3");
        assertThat(exit.nanoTime()).isGreaterThan(t0);
        assertNoTrace(state, "vm2");
        assertThat(driver.list()).isEmpty();
        assertThat(driver.console("vm2")).contains("READY hello vm2"); // the tail outlives the VM, for a while
        assertThatThrownBy(() -> driver.unpause("vm2").get(5, TimeUnit.SECONDS)).cause().isInstanceOf(DriverException.NoSuchDomain.class);
    }

    @Test
    /** The spawn path sends ARGS the moment READY arrives; an early runtime lost such input. */
    void aCommandSentRightAfterReadyIsAnswered() throws Exception {
        for (int i = 0; i < 5; i++) {
            String id = "first" + i;
            driver.create(spec(id)).get(30, TimeUnit.SECONDS);
            driver.unpause(id).get(5, TimeUnit.SECONDS);
            events.awaitGuest(id, GuestMessage.Ready.class, WAIT);
            driver.send(id, new GuestCommand.Args("t", "x")).get(5, TimeUnit.SECONDS);
            assertThat(events.awaitGuest(id, GuestMessage.Result.class, Duration.ofSeconds(5))).as(id).isNotNull();
            driver.destroy(id).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPanickingGuestIsReportedAsCrashed() throws Exception {
        Path crash = QemuTestSupport.crashKernel();
        driver.create(new DomainSpec("vm3", "crash", crash, 4, 1, "xenops.id=vm3")).get(30, TimeUnit.SECONDS);
        driver.unpause("vm3").get(5, TimeUnit.SECONDS);
        events.awaitGuest("vm3", GuestMessage.Ready.class, WAIT);
        driver.send("vm3", new GuestCommand.Args("t1", "panic")).get(5, TimeUnit.SECONDS);
        DomainEvent.Exited exit = events.awaitExit("vm3", WAIT);
        assertThat(exit.reason()).isEqualTo(ExitReason.CRASHED);
        assertThat(exit.detail()).startsWith("PANIC ");
        assertNoTrace(state, "vm3");
    }

    @Test
    void aFaultingGuestIsReportedAsCrashed() throws Exception {
        Path crash = QemuTestSupport.crashKernel();
        driver.create(new DomainSpec("vm4", "crash", crash, 4, 1, "xenops.id=vm4")).get(30, TimeUnit.SECONDS);
        driver.unpause("vm4").get(5, TimeUnit.SECONDS);
        events.awaitGuest("vm4", GuestMessage.Ready.class, WAIT);
        driver.send("vm4", new GuestCommand.Args("t1", "fault")).get(5, TimeUnit.SECONDS);
        DomainEvent.Exited exit = events.awaitExit("vm4", WAIT);
        assertThat(exit.reason()).isEqualTo(ExitReason.CRASHED);
        assertNoTrace(state, "vm4");
    }

    @Test
    void sigkillOfQemuIsReportedAsKilled() throws Exception {
        DomainInfo info = driver.create(spec("vm5")).get(30, TimeUnit.SECONDS);
        long pid = Long.parseLong(info.details().get("pid"));
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        DomainEvent.Exited exit = events.awaitExit("vm5", WAIT);
        assertThat(exit.reason()).isEqualTo(ExitReason.KILLED);
        assertThat(exit.detail()).contains("signal 9");
        assertNoTrace(state, "vm5");
    }

    @Test
    void pausedVmsOfSeveralKindsCoexist() throws Exception {
        var a = driver.create(spec("va"));
        var b = driver.create(spec("vb"));
        var c = driver.create(spec("vc"));
        java.util.concurrent.CompletableFuture.allOf(a, b, c).get(60, TimeUnit.SECONDS);
        assertThat(driver.list()).extracting(DomainInfo::id).containsExactlyInAnyOrder("va", "vb", "vc");
        driver.unpause("vb").get(5, TimeUnit.SECONDS);
        events.awaitGuest("vb", GuestMessage.Ready.class, WAIT);
        assertThat(events.all).noneMatch(e -> e instanceof DomainEvent.GuestSaid g && !g.id().equals("vb"));
        java.util.concurrent.CompletableFuture.allOf(driver.destroy("va"), driver.destroy("vb"), driver.destroy("vc"))
                .get(30, TimeUnit.SECONDS);
        assertThat(state.resolve("domains")).isEmptyDirectory();
        assertThat(QemuTestSupport.liveQemus(state)).isEmpty();
    }

    @Test
    void unknownIdsFailWithNoSuchDomainAndDestroyIsANoOp() throws Exception {
        assertThatThrownBy(() -> driver.unpause("nope").get(5, TimeUnit.SECONDS)).cause().isInstanceOf(DriverException.NoSuchDomain.class);
        assertThatThrownBy(() -> driver.pause("nope").get(5, TimeUnit.SECONDS)).cause().isInstanceOf(DriverException.NoSuchDomain.class);
        assertThatThrownBy(() -> driver.send("nope", new GuestCommand.Ping("x")).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(DriverException.NoSuchDomain.class);
        assertThatThrownBy(() -> driver.console("nope")).isInstanceOf(DriverException.NoSuchDomain.class);
        driver.destroy("nope").get(5, TimeUnit.SECONDS);
        driver.destroy("../etc").get(5, TimeUnit.SECONDS);
    }

    @Test
    void createRefusesBadInputClearly() {
        assertThatThrownBy(() -> driver.create(new DomainSpec("bad/id", "hello", kernel, 4, 1, "")).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(DriverException.class).hasMessageContaining("domain id");
        assertThatThrownBy(() -> driver.create(new DomainSpec("k", "hello", state.resolve("absent.elf"), 4, 1, "")).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(DriverException.class).hasMessageContaining("kernel not readable");
        Path deep = state.resolve("d".repeat(90));
        try (QemuDriver longPaths = new QemuDriver(QemuTestSupport.config(deep))) {
            assertThatThrownBy(() -> longPaths.create(spec("vm-with-a-long-name")).get(5, TimeUnit.SECONDS))
                    .cause().isInstanceOf(DriverException.class).hasMessageContaining("unix sockets allow 107");
        }
    }

    @Test
    void aFailedCreateLeavesNothingAndSaysWhatQemuSaid() throws Exception {
        try (QemuDriver broken = new QemuDriver(QemuTestSupport.config(state).withMachine("no-such-machine"))) {
            broken.setListener(events);
            assertThatThrownBy(() -> broken.create(spec("vm6")).get(30, TimeUnit.SECONDS))
                    .cause().isInstanceOf(DriverException.class).hasMessageContaining("QEMU said").hasMessageContaining("machine type");
        }
        assertNoTrace(state, "vm6");
        assertThat(events.all).isEmpty();
    }

    @Test
    void aDuplicateIdIsRefusedWithoutHarmingTheFirst() throws Exception {
        driver.create(spec("dup")).get(30, TimeUnit.SECONDS);
        assertThatThrownBy(() -> driver.create(spec("dup")).get(30, TimeUnit.SECONDS))
                .cause().isInstanceOf(DriverException.class).hasMessageContaining("exists");
        driver.unpause("dup").get(5, TimeUnit.SECONDS);
        events.awaitGuest("dup", GuestMessage.Ready.class, WAIT);
        driver.destroy("dup").get(10, TimeUnit.SECONDS);
        assertNoTrace(state, "dup");
    }
}
