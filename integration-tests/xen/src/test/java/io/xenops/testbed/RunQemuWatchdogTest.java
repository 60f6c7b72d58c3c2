package io.xenops.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The watchdog around QEMU (testbed/run-qemu.sh), with `sleep` standing in for QEMU: it must stop
 * "QEMU" when its owner dies, at its hard deadline, and when it is signalled, and reap it.
 */
@Timeout(60)
class RunQemuWatchdogTest {

    private final Path script = Path.of(TestbedConfig.required("xenops.testbed.recipe"), "run-qemu.sh");

    private Process watchdog(long ownerPid, int deadlineSeconds) throws Exception {
        Process p = new ProcessBuilder(List.of("setsid", "-w", "bash", script.toString(), Long.toString(ownerPid),
                Integer.toString(deadlineSeconds), "sleep", "300"))
                .redirectErrorStream(true).start();
        // Wait for the stand-in to start, so the test sees the process it must stop.
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (p.descendants().findAny().isEmpty() && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        return p;
    }

    private static ProcessHandle standIn(Process watchdog) {
        return watchdog.descendants().findFirst().orElseThrow(() -> new AssertionError("stand-in QEMU did not start"));
    }

    @Test
    void stopsQemuWhenTheOwnerDies() throws Exception {
        Process owner = new ProcessBuilder("sleep", "300").start();
        Process w = watchdog(owner.pid(), 600);
        ProcessHandle qemu = standIn(w);
        // As when the JVM dies: the pipe the watchdog writes its messages to has no reader any more.
        w.getInputStream().close();
        owner.destroyForcibly().waitFor();
        assertThat(w.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(w.exitValue()).isEqualTo(137);
        assertThat(qemu.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
    }

    @Test
    void stopsQemuAtTheHardDeadline() throws Exception {
        Process w = watchdog(ProcessHandle.current().pid(), 1);
        ProcessHandle qemu = standIn(w);
        assertThat(w.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(w.exitValue()).isEqualTo(124);
        assertThat(qemu.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
    }

    @Test
    void stopsQemuOnTerm() throws Exception {
        Process w = watchdog(ProcessHandle.current().pid(), 600);
        ProcessHandle qemu = standIn(w);
        w.destroy();
        assertThat(w.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(w.exitValue()).isEqualTo(143);
        assertThat(qemu.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();
    }

    @Test
    void passesOnQemusExitStatus() throws Exception {
        Process p = new ProcessBuilder(List.of("setsid", "-w", "bash", script.toString(),
                Long.toString(ProcessHandle.current().pid()), "600", "sh", "-c", "exit 7"))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(7);
    }
}
