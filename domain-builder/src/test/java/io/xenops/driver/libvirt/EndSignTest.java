package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.driver.DomainEvent.ExitReason;
import org.junit.jupiter.api.Test;

class EndSignTest {
    @Test
    void aGuestThatWasToldToExitShutDown() {
        EndSign.Exit x = EndSign.GUEST_SHUTDOWN.classify(null, 3, "SHUTDOWN/FINISHED");
        assertThat(x.reason()).isEqualTo(ExitReason.SHUTDOWN);
        assertThat(x.detail()).contains("code 3");
    }

    @Test
    void aGuestThatStoppedUntoldCrashed() {
        assertThat(EndSign.GUEST_SHUTDOWN.classify(null, null, "SHUTDOWN/FINISHED").reason()).isEqualTo(ExitReason.CRASHED);
    }

    @Test
    void aPanicLineWinsOverWhatLibvirtSaw() {
        EndSign.Exit x = EndSign.GUEST_SHUTDOWN.classify("PANIC boom at main.rs:3", 0, "SHUTDOWN/FINISHED");
        assertThat(x.reason()).isEqualTo(ExitReason.CRASHED);
        assertThat(x.detail()).isEqualTo("PANIC boom at main.rs:3");
    }

    @Test
    void theHostEndingItIsAKill() {
        assertThat(EndSign.DESTROYED.classify("PANIC x", null, "STOPPED/DESTROYED").reason()).isEqualTo(ExitReason.KILLED);
        assertThat(EndSign.FAILED.classify(null, null, "STOPPED/FAILED").reason()).isEqualTo(ExitReason.KILLED);
        assertThat(EndSign.OTHER_STOP.classify(null, null, "STOPPED/MIGRATED").detail()).contains("MIGRATED");
        assertThat(EndSign.GUEST_CRASHED.classify(null, null, "CRASHED/PANICKED").reason()).isEqualTo(ExitReason.CRASHED);
        assertThat(EndSign.VANISHED.classify(null, null, "gone").reason()).isEqualTo(ExitReason.KILLED);
        assertThat(EndSign.VANISHED.classify(null, 0, "gone").reason()).isEqualTo(ExitReason.SHUTDOWN);
    }
}
