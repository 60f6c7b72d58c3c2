package io.xenops.driver.qemu;

import static io.xenops.driver.qemu.QemuTestSupport.assertNoTrace;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xenops.driver.DomainEvent;
import io.xenops.driver.DomainEvent.ExitReason;
import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainSpec;
import io.xenops.driver.DomainState;
import io.xenops.guest.GuestCommand;
import io.xenops.guest.GuestMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon restart, simulated by closing one driver and adopting with a new one over the same state
 * directory. (The VMs stay children of the test JVM, but the new driver does not know that: it uses
 * the same non-child paths as after a real kill -9; integration-tests kill a real daemon.)
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QemuAdoptTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path state;

    Path kernel;
    QemuTestSupport.Events events1 = new QemuTestSupport.Events();
    QemuTestSupport.Events events2 = new QemuTestSupport.Events();
    QemuDriver first;
    QemuDriver second;

    @BeforeEach
    void setUp() {
        kernel = QemuTestSupport.kernel();
        first = new QemuDriver(QemuTestSupport.config(state));
        first.setListener(events1);
        second = new QemuDriver(QemuTestSupport.config(state));
        second.setListener(events2);
    }

    @AfterEach
    void tearDown() throws Exception {
        first.close();
        second.close();
        assertThat(QemuTestSupport.killAll(state)).as("QEMU processes a test left running").isZero();
    }

    DomainSpec spec(String id) {
        return new DomainSpec(id, "hello", kernel, 4, 1, "xenops.id=" + id);
    }

    long pidOf(DomainInfo info) {
        return Long.parseLong(info.details().get("pid"));
    }

    @Test
    void reFindsPausedAndRunningVmsAndStillTalksToThem() throws Exception {
        DomainInfo p = first.create(spec("paused1")).get(30, TimeUnit.SECONDS);
        DomainInfo r = first.create(spec("running1")).get(30, TimeUnit.SECONDS);
        first.unpause("running1").get(5, TimeUnit.SECONDS);
        events1.awaitGuest("running1", GuestMessage.Ready.class, WAIT);
        first.close();
        assertThat(ProcessHandle.of(pidOf(p)).map(ProcessHandle::isAlive)).contains(true);
        assertThat(ProcessHandle.of(pidOf(r)).map(ProcessHandle::isAlive)).contains(true);

        List<DomainInfo> adopted = second.adopt().get(30, TimeUnit.SECONDS);
        Map<String, DomainInfo> byId = adopted.stream().collect(Collectors.toMap(DomainInfo::id, Function.identity()));
        assertThat(byId).containsOnlyKeys("paused1", "running1");
        assertThat(byId.get("paused1").state()).isEqualTo(DomainState.PAUSED);
        assertThat(byId.get("running1").state()).isEqualTo(DomainState.RUNNING);
        assertThat(byId.get("running1").details()).containsEntry("pid", Long.toString(pidOf(r))).containsEntry("adopted", "true");
        assertThat(second.list()).hasSize(2);
        assertThat(second.console("running1")).contains("READY hello running1"); // from console.log, from before

        second.send("running1", new GuestCommand.Ping("again")).get(5, TimeUnit.SECONDS);
        assertThat(events2.awaitGuest("running1", GuestMessage.Pong.class, WAIT)).isEqualTo(new GuestMessage.Pong("again"));
        second.unpause("paused1").get(5, TimeUnit.SECONDS);
        events2.awaitGuest("paused1", GuestMessage.Ready.class, WAIT);
        second.pause("paused1").get(5, TimeUnit.SECONDS);

        // Not our child any more: its death is learned from the QMP EOF.
        ProcessHandle.of(pidOf(r)).orElseThrow().destroyForcibly();
        DomainEvent.Exited exit = events2.awaitExit("running1", WAIT);
        assertThat(exit.reason()).isEqualTo(ExitReason.KILLED);
        assertNoTraceOf("running1");

        // Adopted guests still exit cleanly when told to.
        second.unpause("paused1").get(5, TimeUnit.SECONDS);
        second.send("paused1", new GuestCommand.Exit(0)).get(5, TimeUnit.SECONDS);
        assertThat(events2.awaitExit("paused1", WAIT).reason()).isEqualTo(ExitReason.SHUTDOWN);
        assertNoTrace(state, "paused1");
        assertThat(events1.all).noneMatch(e -> e instanceof DomainEvent.Exited); // the closed driver let go
    }

    void assertNoTraceOf(String id) {
        assertThat(state.resolve("domains").resolve(id)).doesNotExist();
    }

    @Test
    void killsHalfMadeAndUnrecordedVms() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        // Crashed between "recorded" and "pid written": the record has no pid.
        DomainInfo h1 = first.create(spec("half1")).get(30, TimeUnit.SECONDS);
        Path rec1 = state.resolve("domains/half1/domain.json");
        DomainRecord r1 = mapper.readValue(rec1.toFile(), DomainRecord.class);
        mapper.writeValue(rec1.toFile(), new DomainRecord(r1.version(), r1.id(), r1.image(), r1.kernel(), r1.memoryMiB(),
                r1.vcpus(), r1.cmdline(), r1.accel(), r1.cpu(), r1.createdEpochMillis(), null));
        // A directory without a record.
        DomainInfo h2 = first.create(spec("half2")).get(30, TimeUnit.SECONDS);
        Files.delete(state.resolve("domains/half2/domain.json"));
        // A QEMU pointing into our state dir with no directory at all.
        DomainInfo h3 = first.create(spec("half3")).get(30, TimeUnit.SECONDS);
        first.close();
        try (var s = Files.walk(state.resolve("domains/half3"))) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }

        assertThat(second.adopt().get(30, TimeUnit.SECONDS)).isEmpty();
        for (DomainInfo h : List.of(h1, h2, h3)) {
            assertThat(new ProcTable(Path.of("/proc")).isLive(pidOf(h))).as(h.id()).isFalse();
        }
        assertThat(state.resolve("domains")).isEmptyDirectory();
        assertThat(QemuTestSupport.liveQemus(state)).isEmpty();
        assertThat(events2.all).isEmpty();
    }

    @Test
    void forgetsRecordsOfVanishedVmsAndNeverKillsAReusedPid() throws Exception {
        DomainInfo g = first.create(spec("gone1")).get(30, TimeUnit.SECONDS);
        first.close();
        ProcessHandle.of(pidOf(g)).orElseThrow().destroyForcibly();
        ProcessHandle.of(pidOf(g)).ifPresent(h -> h.onExit().join());

        // A record whose pid now belongs to some other process.
        Process stranger = new ProcessBuilder("sleep", "60").start();
        try {
            DomainInfo x = first(new QemuDriver(QemuTestSupport.config(state)), "reused1");
            ObjectMapper mapper = new ObjectMapper();
            Path rec = state.resolve("domains/reused1/domain.json");
            DomainRecord r = mapper.readValue(rec.toFile(), DomainRecord.class);
            mapper.writeValue(rec.toFile(), r.withPid(stranger.pid()));
            ProcessHandle.of(pidOf(x)).orElseThrow().destroyForcibly(); // the real QEMU is gone
            ProcessHandle.of(pidOf(x)).ifPresent(h -> h.onExit().join());

            assertThat(second.adopt().get(30, TimeUnit.SECONDS)).isEmpty();
            assertThat(state.resolve("domains")).isEmptyDirectory();
            assertThat(stranger.isAlive()).as("a process that merely reuses a recorded pid").isTrue();
        } finally {
            stranger.destroyForcibly();
            stranger.waitFor();
        }
    }

    /** Creates one VM with a throwaway driver and closes it, leaving the VM running. */
    DomainInfo first(QemuDriver d, String id) throws Exception {
        try (d) {
            return d.create(spec(id)).get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void destroyOfARecordedButNotAdoptedVmCleansIt() throws Exception {
        DomainInfo x = first.create(spec("orphan1")).get(30, TimeUnit.SECONDS);
        first.close();
        second.destroy("orphan1").get(30, TimeUnit.SECONDS);
        assertThat(new ProcTable(Path.of("/proc")).isLive(pidOf(x))).isFalse();
        assertNoTrace(state, "orphan1");
    }

    @Test
    void adoptIsHarmlessWhenNothingIsThere() throws Exception {
        assertThat(second.adopt().get(30, TimeUnit.SECONDS)).isEmpty();
        DomainInfo a = second.create(spec("fresh1")).get(30, TimeUnit.SECONDS);
        // A second adopt in the same driver leaves its own domains alone.
        assertThat(second.adopt().get(30, TimeUnit.SECONDS)).isEmpty();
        assertThat(new ProcTable(Path.of("/proc")).isLive(pidOf(a))).isTrue();
        second.destroy("fresh1").get(10, TimeUnit.SECONDS);
        assertNoTrace(state, "fresh1");
    }

    @Test
    void aSecondDriverOnTheSameStateDirIsRefusedUntilTheFirstCloses() throws Exception {
        DomainInfo a = first.create(spec("locked1")).get(30, TimeUnit.SECONDS);
        assertThat(second.adopt()).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
                .havingCause().isInstanceOf(io.xenops.driver.DriverException.class).withMessageContaining("in use");
        assertThat(second.create(spec("locked2"))).failsWithin(Duration.ofSeconds(10));
        assertThat(new ProcTable(Path.of("/proc")).isLive(pidOf(a))).as("the owner's VM is untouched").isTrue();
        first.close();
        assertThat(second.adopt().get(30, TimeUnit.SECONDS)).extracting(DomainInfo::id).containsExactly("locked1");
        second.destroy("locked1").get(10, TimeUnit.SECONDS);
        assertNoTrace(state, "locked1");
    }
}
