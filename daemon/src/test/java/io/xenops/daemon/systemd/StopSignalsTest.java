package io.xenops.daemon.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signal handler's effect, without raising a real signal in the test JVM (that would stop Surefire);
 * deploy's supervision test sends a real SIGTERM to the distribution's daemon.
 */
class StopSignalsTest {
    @TempDir
    Path tmp;

    @Test
    void aStopSignalAnnouncesStoppingAndExitsWithZero() throws Exception {
        NotifyAddress at = new NotifyAddress(tmp.resolve("notify").toString(), false);
        try (DatagramReceiver rx = new DatagramReceiver(at, Duration.ofSeconds(2))) {
            List<Integer> exits = new ArrayList<>();
            new StopSignals(new SdNotify(Map.of("NOTIFY_SOCKET", at.toString())), exits::add).onSignal("TERM");
            assertThat(rx.receive()).contains("STOPPING=1\nSTATUS=stopping on SIGTERM");
            assertThat(exits).containsExactly(0);
        }
    }

    @Test
    void withoutASupervisorItStillExitsWithZero() {
        List<Integer> exits = new ArrayList<>();
        new StopSignals(new SdNotify(Map.of()), exits::add).onSignal("INT");
        assertThat(exits).containsExactly(0);
    }
}
