package io.xenops.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AccelProbeTest {
    @TempDir
    Path state;

    @AfterEach
    void noLeftovers() throws Exception {
        assertThat(QemuTestSupport.killAll(state)).isZero();
    }

    private static boolean kvmUsable() {
        return Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
    }

    @Test
    void autoWithAProbeKernelBootsItOrFallsBackToTcg() {
        try (QemuDriver d = new QemuDriver(QemuConfig.defaults(state).withProbeKernel(QemuTestSupport.kernel()))) {
            AccelChoice c = d.accel();
            System.out.println("probe decided: " + c);
            if (kvmUsable() && c.isKvm()) {
                assertThat(c.reason()).contains("READY");
            } else {
                assertThat(c.accel()).isEqualTo("tcg");
                assertThat(c.cpu()).isEqualTo("max");
                assertThat(c.reason()).isNotBlank();
            }
            assertThat(d.accel()).isSameAs(c); // probed once
        }
        assertThat(QemuTestSupport.liveQemus(state)).isEmpty();
        assertThat(state.resolve("probe")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(), p -> assertThat(p).isEmptyDirectory());
    }

    @Test
    void autoWithoutAKernelStillCatchesQemuStartFailures() {
        try (QemuDriver d = new QemuDriver(QemuConfig.defaults(state))) {
            AccelChoice c = d.accel();
            System.out.println("probe decided: " + c);
            if (c.isKvm()) assertThat(c.reason()).contains("paused");
            else assertThat(c.accel()).isEqualTo("tcg");
        }
        assertThat(QemuTestSupport.liveQemus(state)).isEmpty();
    }

    @Test
    void tcgIsTakenAsConfigured() {
        try (QemuDriver d = new QemuDriver(QemuConfig.defaults(state).withAccel(QemuConfig.Accel.TCG))) {
            assertThat(d.accel()).isEqualTo(new AccelChoice("tcg", "max", "configured"));
        }
    }

    @Test
    void aCpuModelKvmCannotRunIsRejected() {
        // kvm-pvm (this project's CI) cannot set IA32_ARCH_CAPABILITIES, so plain "host" aborts QEMU;
        // on real VT-x/AMD-V it works. Either way the probe's answer must agree with reality.
        try (QemuDriver d = new QemuDriver(QemuConfig.defaults(state).withCpu("host").withProbeKernel(QemuTestSupport.kernel()))) {
            AccelChoice c = d.accel();
            System.out.println("probe with -cpu host decided: " + c);
            if (c.isKvm()) assertThat(c.cpu()).isEqualTo("host");
            else assertThat(c.reason()).contains("-cpu host");
        }
        assertThat(QemuTestSupport.liveQemus(state)).isEmpty();
    }
}
