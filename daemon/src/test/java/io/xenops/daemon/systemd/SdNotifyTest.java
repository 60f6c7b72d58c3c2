package io.xenops.daemon.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SdNotifyTest {
    private static final Duration WAIT = Duration.ofSeconds(2);

    @TempDir
    Path tmp;

    @Test
    void withoutNotifySocketEverySendIsANoOp() {
        SdNotify sd = new SdNotify(Map.of());
        assertThat(sd.enabled()).isFalse();
        assertThat(sd.ready("up")).isFalse();
        assertThat(sd.watchdog()).isFalse();
        assertThat(sd.watchdogInterval()).isEmpty();
    }

    @Test
    void readyReachesAPathSocket() throws Exception {
        NotifyAddress at = new NotifyAddress(tmp.resolve("notify").toString(), false);
        try (DatagramReceiver rx = new DatagramReceiver(at, WAIT)) {
            SdNotify sd = new SdNotify(Map.of("NOTIFY_SOCKET", at.toString()));
            assertThat(sd.enabled()).isTrue();
            assertThat(sd.ready("listening on http://127.0.0.1:8470")).isTrue();
            assertThat(rx.receive()).contains("READY=1\nSTATUS=listening on http://127.0.0.1:8470");
        }
    }

    @Test
    void everyMessageKindReachesAnAbstractSocketInOrder() throws Exception {
        NotifyAddress at = new NotifyAddress("xenops-test-" + UUID.randomUUID(), true);
        try (DatagramReceiver rx = new DatagramReceiver(at, WAIT)) {
            SdNotify sd = new SdNotify(Map.of("NOTIFY_SOCKET", "@" + at.name()));
            assertThat(sd.status("reconciling")).isTrue();
            assertThat(sd.extendTimeout(Duration.ofSeconds(30))).isTrue();
            assertThat(sd.ready("up")).isTrue();
            assertThat(sd.watchdog()).isTrue();
            assertThat(sd.stopping("bye")).isTrue();
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 5; i++) got.add(rx.receive().orElseThrow(() -> new AssertionError("datagram missing")));
            assertThat(got).containsExactly("STATUS=reconciling", "EXTEND_TIMEOUT_USEC=30000000", "READY=1\nSTATUS=up",
                    "WATCHDOG=1", "STOPPING=1\nSTATUS=bye");
        }
    }

    @Test
    void aStatusCannotSmuggleInAnotherAssignment() throws Exception {
        NotifyAddress at = new NotifyAddress(tmp.resolve("n").toString(), false);
        try (DatagramReceiver rx = new DatagramReceiver(at, WAIT)) {
            new SdNotify(Map.of("NOTIFY_SOCKET", at.toString())).status("pool hello\nREADY=1");
            assertThat(rx.receive()).contains("STATUS=pool hello READY=1");
        }
    }

    @Test
    void aMissingReceiverIsReportedNotThrown() {
        SdNotify sd = new SdNotify(Map.of("NOTIFY_SOCKET", tmp.resolve("nobody-listens").toString()));
        assertThat(sd.enabled()).isTrue();
        assertThat(sd.ready("up")).isFalse();
    }

    @Test
    void aFullReceiveQueueDoesNotBlockTheSender() throws Exception {
        NotifyAddress at = new NotifyAddress(tmp.resolve("full").toString(), false);
        try (DatagramReceiver rx = new DatagramReceiver(at, WAIT)) {
            SdNotify sd = new SdNotify(Map.of("NOTIFY_SOCKET", at.toString()));
            long start = System.nanoTime();
            int refused = 0;
            // Nobody reads: the queue fills (max_dgram_qlen, 512 by default) and sends fail with EAGAIN, not block.
            for (int i = 0; i < 5_000 && refused == 0; i++) if (!sd.watchdog()) refused++;
            assertThat(refused).as("a send failed once the queue was full").isEqualTo(1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(rx.receive()).contains("WATCHDOG=1");
        }
    }

    @Test
    void badNotifySocketValuesDisableNotificationInsteadOfFailingTheDaemon() {
        assertThat(new SdNotify(Map.of("NOTIFY_SOCKET", "relative/path")).enabled()).isFalse();
        assertThat(new SdNotify(Map.of("NOTIFY_SOCKET", "/" + "x".repeat(200))).enabled()).isFalse();
        assertThat(new SdNotify(Map.of("NOTIFY_SOCKET", "")).enabled()).isFalse();
        assertThat(new SdNotify(Map.of("NOTIFY_SOCKET", "@")).enabled()).isFalse();
    }

    @Test
    void addressesAreEncodedAsTheKernelExpects() {
        assertThat(NotifyAddress.parse("/run/systemd/notify").sunPath())
                .containsExactly("/run/systemd/notify\0".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(NotifyAddress.parse("@abc").sunPath()).containsExactly(0, 'a', 'b', 'c');
        assertThat(NotifyAddress.parse("@abc").toString()).isEqualTo("@abc");
        assertThat(NotifyAddress.parse("/" + "p".repeat(106)).name()).hasSize(107);
        assertThatThrownBy(() -> NotifyAddress.parse("/" + "p".repeat(107))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void watchdogIntervalIsHalfTheTimeoutAndOnlyForThisProcess() {
        long me = ProcessHandle.current().pid();
        String sock = tmp.resolve("w").toString();
        assertThat(new SdNotify(Map.of("NOTIFY_SOCKET", sock, "WATCHDOG_USEC", "20000000"), me).watchdogInterval())
                .contains(Duration.ofSeconds(10));
        assertThat(new SdNotify(Map.of("NOTIFY_SOCKET", sock, "WATCHDOG_USEC", "20000000", "WATCHDOG_PID", Long.toString(me)), me)
                .watchdogInterval()).contains(Duration.ofSeconds(10));
        assertThat(new SdNotify(Map.of("NOTIFY_SOCKET", sock, "WATCHDOG_USEC", "20000000", "WATCHDOG_PID", "1"), me)
                .watchdogInterval()).isEmpty();
        assertThat(new SdNotify(Map.of("NOTIFY_SOCKET", sock, "WATCHDOG_USEC", "soon"), me).watchdogInterval()).isEmpty();
        assertThat(new SdNotify(Map.of("WATCHDOG_USEC", "20000000"), me).watchdogInterval())
                .as("no socket to send the pings to").isEmpty();
        assertThat(Files.exists(Path.of(sock))).isFalse();
    }
}
