package io.xenops.qmp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real, paused QEMU (no kernel needed: the CPU never runs). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QmpClientQemuTest {
    @TempDir
    Path dir;

    private final ObjectMapper mapper = new ObjectMapper();
    private Process qemu;

    @AfterEach
    void killQemu() throws InterruptedException {
        // Whatever the test did, no QEMU outlives it.
        if (qemu != null) {
            qemu.destroyForcibly();
            qemu.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private QmpClient start(QmpClientTest.Recorder recorder) throws Exception {
        Path sock = dir.resolve("qmp.sock");
        qemu = new ProcessBuilder(System.getProperty("xenops.qemu", "qemu-system-x86_64"),
                "-M", "microvm", "-S", "-nodefaults", "-nographic", "-accel", "tcg", "-m", "4",
                "-qmp", "unix:" + sock + ",server=on,wait=off")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                return QmpClient.connect(sock, mapper, recorder, Duration.ofSeconds(10)).get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof IOException) || System.nanoTime() > deadline || !qemu.isAlive()) throw e;
                Thread.sleep(5); // QEMU is still starting; this is a test helper, not the request path
            }
        }
    }

    @Test
    void talksToARealQemu() throws Exception {
        QmpClientTest.Recorder recorder = new QmpClientTest.Recorder();
        try (QmpClient client = start(recorder)) {
            assertThat(client.greeting().version()).matches("\\d+\\.\\d+\\.\\d+");
            JsonNode status = client.execute("query-status").get(5, TimeUnit.SECONDS);
            assertThat(status.get("status").asText()).isEqualTo("prelaunch");
            assertThat(status.get("running").asBoolean()).isFalse();

            // Pipelined: all sent before the first answer is read.
            List<CompletableFuture<JsonNode>> many = java.util.stream.IntStream.range(0, 20)
                    .mapToObj(i -> client.execute("query-status")).toList();
            for (CompletableFuture<JsonNode> f : many) assertThat(f.get(5, TimeUnit.SECONDS).has("status")).isTrue();

            client.execute("cont").get(5, TimeUnit.SECONDS);
            client.execute("stop").get(5, TimeUnit.SECONDS);
            assertThat(client.execute("query-status").get(5, TimeUnit.SECONDS).get("status").asText()).isEqualTo("paused");

            assertThat(client.execute("no-such-command")).failsWithin(Duration.ofSeconds(5))
                    .withThrowableThat().havingCause().isInstanceOfSatisfying(QmpCommandException.class,
                            e -> assertThat(e.errorClass()).isEqualTo("CommandNotFound"));

            client.execute("quit").get(5, TimeUnit.SECONDS);
            assertThat(recorder.disconnected.await(10, TimeUnit.SECONDS)).as("EOF reported when QEMU exits").isTrue();
            assertThat(recorder.disconnects).isEmpty();
            assertThat(recorder.events).extracting(QmpMessage.Event::name).contains("RESUME", "STOP", "SHUTDOWN");
            assertThat(qemu.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void killingQemuFailsPendingCommandsAndReportsEof() throws Exception {
        QmpClientTest.Recorder recorder = new QmpClientTest.Recorder();
        try (QmpClient client = start(recorder)) {
            qemu.destroyForcibly();
            assertThat(recorder.disconnected.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(client.execute("cont")).failsWithin(Duration.ofSeconds(1))
                    .withThrowableThat().havingCause().isInstanceOf(QmpClosedException.class);
        }
    }
}
