package io.xenops.hypercall;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class PrivcmdHypercallTest {
    @Test
    void ioctlNumberIsLinuxs() {
        // _IOC(_IOC_NONE, 'P', 0, 48): the value the testbed's probe used successfully in dom0.
        assertThat(PrivcmdHypercall.IOCTL_PRIVCMD_HYPERCALL).isEqualTo(0x305000L);
        assertThat(PrivcmdHypercall.LAYOUT.byteSize()).isEqualTo(48);
    }

    @Test
    void encodesOpAndArgsAndZeroesTheRest() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(48);
            s.fill((byte) -1);
            new PrivcmdHypercall(36, new long[] {0xdeadbeef000L, 7}).encode(s);
            assertThat(s.get(JAVA_LONG, 0)).isEqualTo(36);
            assertThat(s.get(JAVA_LONG, 8)).isEqualTo(0xdeadbeef000L);
            assertThat(s.get(JAVA_LONG, 16)).isEqualTo(7);
            assertThat(s.get(JAVA_LONG, 24)).isZero();
            assertThat(s.get(JAVA_LONG, 40)).isZero();
        }
    }

    @Test
    void atMostFiveArguments() {
        assertThatThrownBy(() -> new PrivcmdHypercall(1, new long[6])).hasMessageContaining("at most 5");
    }

    @Test
    void openingAMissingDeviceSaysWhichAndWhy() {
        assertThatThrownBy(() -> PrivcmdTransport.open(java.nio.file.Path.of("/nonexistent/privcmd"), java.nio.file.Path.of("/nonexistent/hypercall")))
                .isInstanceOf(HypercallException.class)
                .hasMessageContaining("/nonexistent/privcmd")
                .satisfies(e -> assertThat(((HypercallException) e).errno()).isEqualTo(2));
    }
}
