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
        QemuDriver d = new QemuDriver(QemuConfig.defaults(state).withProbeKernel(kernel));
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
}
