package io.xenops.xenstore.client;

import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.InvalidRequestException;
import io.xenops.xenstore.error.NoSuchNodeException;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.MessageType;
import io.xenops.xenstore.wire.Payloads;
import io.xenops.xenstore.wire.WatchEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(30)
class ConnectionTest {

    private final ScriptedServer server = new ScriptedServer();
    private final XenStoreClient client = XenStoreClient.open(server.clientEnd);

    @AfterEach
    void close() {
        client.close();
        server.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void repliesInReverseOrderReachTheRightRequests() throws Exception {
        int n = 200;
        List<CompletableFuture<String>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(client.readString("/k" + i));
        }
        List<Frame> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            requests.add(server.take());
        }
        assertThat(requests).extracting(Frame::reqId).doesNotHaveDuplicates();
        Collections.reverse(requests);
        for (Frame r : requests) {
            // Answer each read with its own path, so a mix-up would show.
            String path = Payloads.first(r.payload());
            server.send(new Frame(MessageType.READ, r.reqId(), 0, bytes("value-of" + path)));
        }
        for (int i = 0; i < n; i++) {
            assertThat(futures.get(i).get(5, TimeUnit.SECONDS)).isEqualTo("value-of/k" + i);
        }
        assertThat(client.connection().pendingCount()).isZero();
    }

    @Test
    void allRequestsAreSentBeforeAnyReply() throws Exception {
        // Pipelining: the client does not wait for a reply before sending the next request.
        List<CompletableFuture<Void>> f = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            f.add(client.write("/p" + i, "x"));
        }
        for (int i = 0; i < 50; i++) {
            Frame r = server.take();
            assertThat(r.type()).isEqualTo(MessageType.WRITE.code());
        }
        assertThat(f).noneMatch(CompletableFuture::isDone);
        assertThat(client.connection().pendingCount()).isEqualTo(50);
    }

    @Test
    void errorReplyFailsOnlyItsRequest() throws Exception {
        CompletableFuture<String> a = client.readString("/a");
        CompletableFuture<String> b = client.readString("/b");
        Frame ra = server.take();
        Frame rb = server.take();
        server.send(new Frame(MessageType.ERROR, ra.reqId(), 0, Payloads.nulTerminated("ENOENT")));
        server.send(new Frame(MessageType.READ, rb.reqId(), 0, bytes("fine")));
        assertThat(b.get(5, TimeUnit.SECONDS)).isEqualTo("fine");
        assertThatThrownBy(() -> a.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(NoSuchNodeException.class);
        assertThat(client.readStringIfExists("/c").isDone()).isFalse();
        Frame rc = server.take();
        server.send(new Frame(MessageType.ERROR, rc.reqId(), 0, Payloads.nulTerminated("ENOENT")));
    }

    @Test
    void closeFailsEveryPendingRequestAndLaterOnes() throws Exception {
        List<CompletableFuture<byte[]>> pending = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            pending.add(client.read("/x" + i));
        }
        server.take();
        client.close();
        for (CompletableFuture<byte[]> f : pending) {
            assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class);
        }
        assertThat(client.connection().closedFuture()).succeedsWithin(Duration.ofSeconds(5));
        assertThatThrownBy(() -> client.read("/later").get(5, TimeUnit.SECONDS))
                .hasCauseInstanceOf(ConnectionClosedException.class);
        assertThat(client.connection().isOpen()).isFalse();
    }

    @Test
    void serverHangingUpIsReportedNotHung() throws Exception {
        CompletableFuture<byte[]> f = client.read("/x");
        server.take();
        server.close();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class)
                .hasMessageContaining("closed by the server");
        assertThat(client.connection().closedFuture()).failsWithin(Duration.ofSeconds(5));
    }

    @Test
    void serverHangingUpMidFrameSaysSo() throws Exception {
        CompletableFuture<byte[]> f = client.read("/x");
        Frame r = server.take();
        byte[] whole = io.xenops.xenstore.wire.FrameEncoder.encodeUnchecked(new Frame(MessageType.READ, r.reqId(), 0, bytes("abc")));
        server.sendRaw(java.util.Arrays.copyOf(whole, 18));
        server.close();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class)
                .hasMessageContaining("in the middle of a message");
    }

    @Test
    void oversizedReplyBreaksTheConnectionWithAProtocolError() throws Exception {
        CompletableFuture<byte[]> f = client.read("/x");
        Frame r = server.take();
        ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MessageType.READ.code()).putInt(r.reqId()).putInt(0).putInt(1 << 30);
        server.sendRaw(header.array());
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class)
                .hasMessageContaining("protocol error");
        assertThat(client.connection().isOpen()).isFalse();
    }

    @Test
    void replyToNoRequestIsCountedAndIgnored() throws Exception {
        server.send(new Frame(MessageType.READ, 9999, 0, bytes("stray")));
        CompletableFuture<String> f = client.readString("/x");
        Frame r = server.take();
        server.send(new Frame(MessageType.READ, r.reqId(), 0, bytes("ok")));
        assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo("ok");
        assertThat(client.connection().unmatchedReplies()).isEqualTo(1);
    }

    @Test
    void watchEventsAreRoutedByToken() throws Exception {
        CompletableFuture<Watch> wa = client.watch("/a");
        Frame ra = server.take();
        CompletableFuture<Watch> wb = client.watch("/b");
        Frame rb = server.take();
        String tokenA = Payloads.split(ra.payload()).get(1);
        String tokenB = Payloads.split(rb.payload()).get(1);
        assertThat(tokenA).isNotEqualTo(tokenB);
        // An event may overtake the WATCH acknowledgement; it must not be lost.
        server.send(new Frame(MessageType.WATCH_EVENT, 0, 0, Payloads.nulTerminated("/b", tokenB)));
        server.send(new Frame(MessageType.WATCH, rb.reqId(), 0, Payloads.nulTerminated("OK")));
        server.send(new Frame(MessageType.WATCH, ra.reqId(), 0, Payloads.nulTerminated("OK")));
        server.send(new Frame(MessageType.WATCH_EVENT, 0, 0, Payloads.nulTerminated("/a/x", tokenA)));
        server.send(new Frame(MessageType.WATCH_EVENT, 0, 0, Payloads.nulTerminated("/z", "someone-elses")));
        server.send(new Frame(MessageType.WATCH_EVENT, 0, 0, Payloads.nulTerminated("/b/y", tokenB)));
        Watch a = wa.get(5, TimeUnit.SECONDS);
        Watch b = wb.get(5, TimeUnit.SECONDS);
        assertThat(a.take(Duration.ofSeconds(5))).isEqualTo(new WatchEvent("/a/x", tokenA));
        assertThat(b.take(Duration.ofSeconds(5))).isEqualTo(new WatchEvent("/b", tokenB));
        assertThat(b.take(Duration.ofSeconds(5))).isEqualTo(new WatchEvent("/b/y", tokenB));
        assertThat(a.poll(Duration.ofMillis(50))).isNull();
        assertThat(client.connection().droppedEvents()).isEqualTo(1);
    }

    @Test
    void blockingCallsOnTheReaderThreadAreRefused() throws Exception {
        CompletableFuture<String> inner = client.readString("/a").thenApply(v -> {
            try {
                return client.blocking().readString("/b");
            } catch (IllegalStateException e) {
                return e.getMessage();
            }
        });
        Frame r = server.take();
        server.send(new Frame(MessageType.READ, r.reqId(), 0, bytes("x")));
        assertThat(inner.get(5, TimeUnit.SECONDS)).contains("would deadlock");
    }

    @Test
    void invalidPathsFailWithoutSending() throws Exception {
        assertThatThrownBy(() -> client.read("/a//b").get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> client.watch("no spaces").get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> client.write("/a", new byte[5000]).get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(InvalidRequestException.class);
        // Nothing reached the server: the next frame it sees is this read.
        client.read("/ok");
        assertThat(Payloads.first(server.take().payload())).isEqualTo("/ok");
        assertThat(client.connection().pendingCount()).isEqualTo(1);
    }

    @Test
    void directoryFallsBackToPartsOnE2big() throws Exception {
        CompletableFuture<List<String>> dir = client.directory("/big");
        Frame first = server.take();
        assertThat(first.type()).isEqualTo(MessageType.DIRECTORY.code());
        server.send(new Frame(MessageType.ERROR, first.reqId(), 0, Payloads.nulTerminated("E2BIG")));
        Frame p1 = server.take();
        assertThat(Payloads.split(p1.payload())).containsExactly("/big", "0");
        server.send(new Frame(MessageType.DIRECTORY_PART, p1.reqId(), 0, Payloads.nulTerminated("7", "aa", "b")));
        Frame p2 = server.take();
        assertThat(Payloads.split(p2.payload())).containsExactly("/big", "5");
        // The node changed (generation 8): the client starts again from offset 0.
        server.send(new Frame(MessageType.DIRECTORY_PART, p2.reqId(), 0, Payloads.nulTerminated("8", "c")));
        Frame p3 = server.take();
        assertThat(Payloads.split(p3.payload())).containsExactly("/big", "0");
        server.send(new Frame(MessageType.DIRECTORY_PART, p3.reqId(), 0, bytes("8\0aa\0b\0")));
        Frame p4 = server.take();
        assertThat(Payloads.split(p4.payload())).containsExactly("/big", "5");
        server.send(new Frame(MessageType.DIRECTORY_PART, p4.reqId(), 0, bytes("8\0c\0\0")));
        assertThat(dir.get(5, TimeUnit.SECONDS)).containsExactly("aa", "b", "c");
    }
}
