package io.xenops.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class QmpClientTest {
    @TempDir
    Path dir;

    private final ObjectMapper mapper = new ObjectMapper();
    private FakeQmpServer server;
    private final Recorder recorder = new Recorder();

    static final class Recorder implements QmpListener {
        final List<QmpMessage.Event> events = new CopyOnWriteArrayList<>();
        final List<Throwable> disconnects = new CopyOnWriteArrayList<>();
        final CountDownLatch disconnected = new CountDownLatch(1);
        volatile int disconnectCalls;

        @Override
        public void onEvent(QmpMessage.Event event) {
            events.add(event);
        }

        @Override
        public void onDisconnect(Throwable cause) {
            disconnectCalls++;
            if (cause != null) disconnects.add(cause);
            disconnected.countDown();
        }
    }

    @BeforeEach
    void startServer() throws Exception {
        server = new FakeQmpServer(dir.resolve("qmp.sock"));
    }

    @AfterEach
    void stopServer() throws Exception {
        server.close();
    }

    private QmpClient connect() throws Exception {
        CompletableFuture<QmpClient> f = QmpClient.connect(server.path, mapper, recorder, Duration.ofSeconds(5));
        server.acceptAndHandshake();
        return f.get(5, TimeUnit.SECONDS);
    }

    @Test
    void handshakesAndRunsACommand() throws Exception {
        try (QmpClient client = connect()) {
            assertThat(client.greeting().version()).isEqualTo("9.0.0");
            CompletableFuture<JsonNode> status = client.execute("query-status");
            JsonNode cmd = server.read();
            assertThat(cmd.get("execute").asText()).isEqualTo("query-status");
            server.reply(cmd, "{\"status\": \"prelaunch\", \"running\": false}");
            assertThat(status.get(5, TimeUnit.SECONDS).get("status").asText()).isEqualTo("prelaunch");
            assertThat(client.pendingCount()).isZero();
        }
    }

    @Test
    void matchesPipelinedRepliesThatArriveOutOfOrder() throws Exception {
        try (QmpClient client = connect()) {
            List<CompletableFuture<JsonNode>> futures = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                futures.add(client.execute("echo", mapper.createObjectNode().put("n", i)));
            }
            List<JsonNode> received = new ArrayList<>();
            for (int i = 0; i < 5; i++) received.add(server.read());
            assertThat(futures).noneMatch(CompletableFuture::isDone); // all five were sent before any reply
            for (int i = 4; i >= 0; i--) {
                JsonNode cmd = received.get(i);
                server.reply(cmd, String.valueOf(cmd.get("arguments").get("n").asInt() * 10));
            }
            for (int i = 0; i < 5; i++) {
                assertThat(futures.get(i).get(5, TimeUnit.SECONDS).asInt()).isEqualTo(i * 10);
            }
        }
    }

    @Test
    void anErrorReplyFailsOnlyItsCommand() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> bad = client.execute("nope");
            CompletableFuture<JsonNode> good = client.execute("cont");
            JsonNode c1 = server.read();
            JsonNode c2 = server.read();
            server.send("{\"id\": " + c1.get("id") + ", \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"}}");
            server.reply(c2, "{}");
            assertThatThrownBy(() -> bad.get(5, TimeUnit.SECONDS))
                    .cause().isInstanceOfSatisfying(QmpCommandException.class, e -> {
                        assertThat(e.errorClass()).isEqualTo("CommandNotFound");
                        assertThat(e.command()).isEqualTo("nope");
                    });
            assertThat(good.get(5, TimeUnit.SECONDS).isObject()).isTrue();
        }
    }

    @Test
    void deliversEventsInOrderBetweenReplies() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> f = client.execute("stop");
            JsonNode cmd = server.read();
            server.event("STOP", null);
            server.reply(cmd, "{}");
            server.event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
            f.get(5, TimeUnit.SECONDS);
            CompletableFuture<JsonNode> sync = client.execute("ping");
            server.reply(server.read(), "{}");
            sync.get(5, TimeUnit.SECONDS); // everything sent before this reply has been delivered
            assertThat(recorder.events).extracting(QmpMessage.Event::name).containsExactly("STOP", "SHUTDOWN");
            assertThat(recorder.events.get(1).data().get("guest").asBoolean()).isTrue();
        }
    }

    @Test
    void eofFailsEveryPendingCommandAndIsReportedOnce() throws Exception {
        QmpClient client = connect();
        CompletableFuture<JsonNode> a = client.execute("query-status");
        CompletableFuture<JsonNode> b = client.execute("cont");
        server.read();
        server.read();
        server.closeConnection();
        for (CompletableFuture<JsonNode> f : List.of(a, b)) {
            assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(QmpClosedException.class);
        }
        assertThat(recorder.disconnected.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(recorder.disconnects).isEmpty(); // a plain EOF: QEMU went away
        assertThat(client.isOpen()).isFalse();
        assertThatThrownBy(() -> client.execute("cont").get(1, TimeUnit.SECONDS)).cause().isInstanceOf(QmpClosedException.class);
        client.close();
        assertThat(recorder.disconnectCalls).isEqualTo(1);
    }

    @Test
    void closingTheClientFailsPendingWithoutReportingADisconnect() throws Exception {
        QmpClient client = connect();
        CompletableFuture<JsonNode> a = client.execute("query-status");
        server.read();
        client.close();
        assertThatThrownBy(() -> a.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(QmpClosedException.class);
        Thread.sleep(100);
        assertThat(recorder.disconnectCalls).isZero();
    }

    @Test
    void garbageFromTheServerClosesTheConnectionWithAProtocolError() throws Exception {
        QmpClient client = connect();
        CompletableFuture<JsonNode> a = client.execute("query-status");
        server.read();
        server.sendRaw("this is not json\r\n".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> a.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(QmpClosedException.class);
        assertThat(recorder.disconnected.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(recorder.disconnects).singleElement().isInstanceOf(QmpProtocolException.class);
        client.close();
    }

    @Test
    void handshakeTimesOutWhenNoGreetingComes() throws Exception {
        CompletableFuture<QmpClient> f = QmpClient.connect(server.path, mapper, recorder, Duration.ofMillis(200));
        server.accept();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(TimeoutException.class);
        // The client closed its socket: the server sees EOF.
        assertThatThrownBy(server::read).hasMessageContaining("client closed");
    }

    @Test
    void connectFailsAtOnceWhenNobodyListens() {
        CompletableFuture<QmpClient> f = QmpClient.connect(dir.resolve("absent.sock"), mapper, recorder, Duration.ofSeconds(1));
        assertThat(f).isCompletedExceptionally();
    }

    @Test
    void capabilitiesErrorFailsTheHandshake() throws Exception {
        CompletableFuture<QmpClient> f = QmpClient.connect(server.path, mapper, recorder, Duration.ofSeconds(5));
        server.accept();
        server.send(FakeQmpServer.GREETING);
        JsonNode caps = server.read();
        server.send("{\"id\": " + caps.get("id") + ", \"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}");
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(QmpCommandException.class);
    }
}
