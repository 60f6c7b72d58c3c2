package io.xenops.xenstore.client;

import io.xenops.xenstore.error.ConnectionClosedException;
import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.NoSuchNodeException;
import io.xenops.xenstore.error.NoSuchTransactionException;
import io.xenops.xenstore.error.XenStoreErrorException;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.MessageType;
import io.xenops.xenstore.wire.Payloads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the client does with the answers where oxenstored and C xenstored differ (seen in the
 * nested Xen testbed): a DIRECTORY reply longer than 4096 bytes, and EIO (oxenstored) or ENOENT
 * (C xenstored) for a transaction the server does not know. Scripted server, so each answer is
 * exactly the real daemon's.
 */
@Timeout(30)
class ServerDifferencesTest {

    private final ScriptedServer server = new ScriptedServer();
    private final XenStoreClient client = XenStoreClient.open(server.clientEnd);

    @AfterEach
    void close() {
        client.close();
        server.close();
    }

    private static List<String> children(int n) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add(String.format("child-with-a-long-name-%04d", i));
        }
        return names;
    }

    private static byte[] nulJoined(List<String> names) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String n : names) {
            out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    @Test
    void oxenstoredsLongDirectoryReplyIsAcceptedInAnyFragmentation() throws Exception {
        List<String> names = children(300);
        byte[] payload = nulJoined(names);
        assertThat(payload.length).isEqualTo(8400); // the size oxenstored sent in the testbed
        for (int piece : new int[] {1, 7, 16, 17, 4096, 4113, 8416}) {
            CompletableFuture<List<String>> dir = client.directory("/big");
            Frame req = server.take();
            assertThat(req.type()).isEqualTo(MessageType.DIRECTORY.code());
            ByteBuffer whole = ByteBuffer.allocate(16 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
            whole.putInt(MessageType.DIRECTORY.code()).putInt(req.reqId()).putInt(0).putInt(payload.length).put(payload);
            byte[] bytes = whole.array();
            for (int off = 0; off < bytes.length; off += piece) {
                server.sendRaw(Arrays.copyOfRange(bytes, off, Math.min(bytes.length, off + piece)));
            }
            assertThat(dir.get(5, TimeUnit.SECONDS)).as("pieces of %d bytes", piece).isEqualTo(names);
        }
        assertThat(client.connection().isOpen()).isTrue();
    }

    @Test
    void aReplyAtTheCeilingIsAcceptedAndOneByteMoreBreaksTheConnection() throws Exception {
        CompletableFuture<byte[]> read = client.read("/x");
        Frame r = server.take();
        byte[] max = new byte[Limits.REPLY_PAYLOAD_MAX];
        max[max.length - 1] = 'z';
        server.send(new Frame(MessageType.READ, r.reqId(), 0, max));
        assertThat(read.get(5, TimeUnit.SECONDS)).hasSize(Limits.REPLY_PAYLOAD_MAX).endsWith((byte) 'z');

        CompletableFuture<byte[]> over = client.read("/y");
        Frame r2 = server.take();
        ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MessageType.READ.code()).putInt(r2.reqId()).putInt(0).putInt(Limits.REPLY_PAYLOAD_MAX + 1);
        server.sendRaw(header.array());
        assertThatThrownBy(() -> over.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class)
                .hasMessageContaining("protocol error").hasMessageContaining(Integer.toString(Limits.REPLY_PAYLOAD_MAX + 1));
        assertThat(client.connection().isOpen()).isFalse();
    }

    @Test
    void requestsStayWithinTheProtocolLimitWhateverTheReplyCeiling() {
        // Replies may be longer; requests may not: xenstored drops a connection that sends more.
        assertThatThrownBy(() -> client.write("/x", new byte[Limits.XENSTORE_PAYLOAD_MAX]).join())
                .hasCauseInstanceOf(io.xenops.xenstore.error.InvalidRequestException.class);
        assertThat(client.connection().isOpen()).isTrue();
    }

    private XenStoreErrorException failure(CompletableFuture<?> f) {
        try {
            f.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return (XenStoreErrorException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("succeeded");
    }

    private Transaction transaction(int id) throws Exception {
        CompletableFuture<Transaction> tx = client.startTransaction();
        Frame start = server.take();
        server.send(new Frame(MessageType.TRANSACTION_START, start.reqId(), 0, Payloads.nulTerminated(Integer.toString(id))));
        return tx.get(5, TimeUnit.SECONDS);
    }

    @Test
    void eioInATransactionIsNoSuchTransactionAsOxenstoredMeansIt() throws Exception {
        Transaction tx = transaction(7);
        CompletableFuture<byte[]> read = tx.read("/a");
        Frame r = server.take();
        assertThat(r.txId()).isEqualTo(7);
        server.send(new Frame(MessageType.ERROR, r.reqId(), 7, Payloads.nulTerminated("EIO")));
        XenStoreErrorException e = failure(read);
        assertThat(e).isInstanceOf(NoSuchTransactionException.class).hasMessageContaining("transaction 7");
        assertThat(e.code()).isEqualTo(ErrorCode.EIO);
    }

    @Test
    void enoentToTransactionEndIsNoSuchTransactionAsCXenstoredMeansIt() throws Exception {
        Transaction tx = transaction(8);
        CompletableFuture<Void> end = tx.end(true);
        Frame r = server.take();
        server.send(new Frame(MessageType.ERROR, r.reqId(), 8, Payloads.nulTerminated("ENOENT")));
        XenStoreErrorException e = failure(end);
        assertThat(e).isInstanceOf(NoSuchTransactionException.class);
        assertThat(e.code()).isEqualTo(ErrorCode.ENOENT);
    }

    @Test
    void enoentToAReadInATransactionIsStillAMissingNode() throws Exception {
        Transaction tx = transaction(9);
        CompletableFuture<byte[]> read = tx.read("/a");
        Frame r = server.take();
        server.send(new Frame(MessageType.ERROR, r.reqId(), 9, Payloads.nulTerminated("ENOENT")));
        assertThat(failure(read)).isInstanceOf(NoSuchNodeException.class);
    }

    @Test
    void eioOutsideATransactionIsAPlainError() throws Exception {
        CompletableFuture<byte[]> read = client.read("/a");
        Frame r = server.take();
        server.send(new Frame(MessageType.ERROR, r.reqId(), 0, Payloads.nulTerminated("EIO")));
        XenStoreErrorException e = failure(read);
        assertThat(e).isNotInstanceOf(NoSuchTransactionException.class);
        assertThat(e.code()).isEqualTo(ErrorCode.EIO);
    }

    /**
     * The combinator runs the body again when the server lost the transaction, however the server
     * says so: oxenstored answers the write and the discarding END with EIO; C xenstored answers the
     * write with ENOENT (ambiguous) and the END with ENOENT (unambiguous).
     */
    @Test
    void transactionCombinatorRetriesALostTransactionOnBothDialects() throws Exception {
        for (String dialect : List.of("EIO", "ENOENT")) {
            AtomicInteger attempts = new AtomicInteger();
            CompletableFuture<Integer> result = client.transaction(new RetryPolicy(3, Duration.ZERO, Duration.ZERO),
                    tx -> tx.write("/v", "x").thenApply(v -> attempts.incrementAndGet()));
            // First attempt: the server has lost transaction 1.
            Frame start = server.take();
            server.send(new Frame(MessageType.TRANSACTION_START, start.reqId(), 0, Payloads.nulTerminated("1")));
            Frame write = server.take();
            server.send(new Frame(MessageType.ERROR, write.reqId(), 1, Payloads.nulTerminated(dialect)));
            Frame discard = server.take();
            assertThat(discard.type()).isEqualTo(MessageType.TRANSACTION_END.code());
            assertThat(Payloads.first(discard.payload())).isEqualTo("F");
            server.send(new Frame(MessageType.ERROR, discard.reqId(), 1, Payloads.nulTerminated(dialect)));
            // Second attempt succeeds.
            Frame start2 = server.take();
            assertThat(start2.type()).as(dialect).isEqualTo(MessageType.TRANSACTION_START.code());
            server.send(new Frame(MessageType.TRANSACTION_START, start2.reqId(), 0, Payloads.nulTerminated("2")));
            Frame write2 = server.take();
            assertThat(write2.txId()).isEqualTo(2);
            server.send(new Frame(MessageType.WRITE, write2.reqId(), 2, Payloads.nulTerminated("OK")));
            Frame commit = server.take();
            assertThat(Payloads.first(commit.payload())).isEqualTo("T");
            server.send(new Frame(MessageType.TRANSACTION_END, commit.reqId(), 2, Payloads.nulTerminated("OK")));
            assertThat(result.get(5, TimeUnit.SECONDS)).as(dialect).isEqualTo(1);
        }
    }

    @Test
    void blockingTransactionRetriesALostTransactionOnBothDialects() throws Exception {
        for (String dialect : List.of("EIO", "ENOENT")) {
            AtomicInteger attempts = new AtomicInteger();
            CompletableFuture<Integer> result = CompletableFuture.supplyAsync(() -> client.blocking()
                    .transaction(new RetryPolicy(3, Duration.ZERO, Duration.ZERO), b -> {
                        b.write("/v", "x");
                        return attempts.incrementAndGet();
                    }));
            Frame start = server.take();
            server.send(new Frame(MessageType.TRANSACTION_START, start.reqId(), 0, Payloads.nulTerminated("1")));
            Frame write = server.take();
            server.send(new Frame(MessageType.ERROR, write.reqId(), 1, Payloads.nulTerminated(dialect)));
            Frame discard = server.take();
            assertThat(Payloads.first(discard.payload())).isEqualTo("F");
            server.send(new Frame(MessageType.ERROR, discard.reqId(), 1, Payloads.nulTerminated(dialect)));
            Frame start2 = server.take();
            assertThat(start2.type()).as(dialect).isEqualTo(MessageType.TRANSACTION_START.code());
            server.send(new Frame(MessageType.TRANSACTION_START, start2.reqId(), 0, Payloads.nulTerminated("2")));
            Frame write2 = server.take();
            server.send(new Frame(MessageType.WRITE, write2.reqId(), 2, Payloads.nulTerminated("OK")));
            Frame commit = server.take();
            server.send(new Frame(MessageType.TRANSACTION_END, commit.reqId(), 2, Payloads.nulTerminated("OK")));
            assertThat(result.get(5, TimeUnit.SECONDS)).as(dialect).isEqualTo(1);
        }
    }
}
