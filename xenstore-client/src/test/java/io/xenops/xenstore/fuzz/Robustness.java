package io.xenops.xenstore.fuzz;

import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.ProtocolException;
import io.xenops.xenstore.error.XenStoreErrorException;
import io.xenops.xenstore.server.XenStoreServer;
import io.xenops.xenstore.transport.InMemoryTransport;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameDecoder;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.ReplyDecoder;
import io.xenops.xenstore.wire.Request;
import io.xenops.xenstore.wire.RequestDecoder;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The robustness properties, shared by the seeded property tests of the normal build and the
 * Jazzer fuzz targets: whatever bytes arrive, decoding ends in a frame or a protocol error (never
 * another exception), memory held is bounded, the server keeps serving others, and the client
 * completes every request instead of hanging.
 */
final class Robustness {

    /** The most a FrameDecoder may hold: one header and one maximal payload. */
    static final int MAX_BUFFERED = Frame.HEADER_SIZE + Limits.XENSTORE_PAYLOAD_MAX;

    /** One request of every reply shape, to decode arbitrary replies against. */
    static final List<Request<?>> SHAPES = List.of(
            new Request.Read("/a"), new Request.Write("/a", new byte[0]), new Request.Directory("/a"),
            new Request.DirectoryPart("/a", 0), new Request.GetPerms("/a"), new Request.TransactionStart(),
            new Request.GetDomainPath(1), new Request.IsDomainIntroduced(1), new Request.Control(List.of("help")),
            new Request.GetFeature(OptionalInt.empty()), new Request.GetQuota(OptionalInt.empty(), "nodes"),
            new Request.GetQuotaNames());

    private Robustness() {
    }

    /**
     * Feeds {@code stream} to a decoder in pieces of the given sizes and decodes every frame both
     * as a request (server side) and as a reply to {@code shape} (client side).
     *
     * @return frames decoded
     */
    static int decodeStream(byte[] stream, int[] pieces, Request<?> shape) {
        FrameDecoder d = new FrameDecoder(Limits.standard());
        RequestDecoder requests = new RequestDecoder();
        ReplyDecoder replies = new ReplyDecoder();
        int frames = 0;
        int off = 0;
        int i = 0;
        try {
            while (off < stream.length) {
                int n = Math.min(stream.length - off, Math.max(1, pieces[i++ % pieces.length]));
                ByteBuffer piece = ByteBuffer.wrap(stream, off, n);
                off += n;
                Frame f;
                while ((f = d.next(piece)) != null) {
                    frames++;
                    check(f.payload().length <= Limits.XENSTORE_PAYLOAD_MAX, "payload over the limit was returned");
                    try {
                        requests.decode(f);
                    } catch (XenStoreErrorException e) {
                        check(e.code() == ErrorCode.EINVAL, "request decoding failed with " + e.code());
                    }
                    try {
                        replies.decode(shape, f);
                    } catch (XenStoreErrorException | ProtocolException expected) {
                        // The two ways a reply may legitimately fail.
                    }
                }
                check(d.bufferedBytes() <= MAX_BUFFERED, "decoder holds " + d.bufferedBytes() + " bytes");
                check(!piece.hasRemaining(), "decoder left bytes unconsumed without a frame");
            }
        } catch (ProtocolException expected) {
            // Framing lost (length over the limit): the connection would be dropped. Fine.
        }
        return frames;
    }

    /**
     * Writes arbitrary bytes to the server as one client, then proves the server still answers a
     * well-behaved client. The misbehaving connection may be dropped or answered, never hang others.
     */
    static void serverSurvives(XenStoreServer server, byte[] garbage) throws Exception {
        Transport raw = server.connect();
        raw.write(List.of(ByteBuffer.wrap(garbage)));
        raw.close();
        try (XenStoreClient good = XenStoreClient.open(server.connect())) {
            good.write("/alive", "yes").get(5, TimeUnit.SECONDS);
            check("yes".equals(good.readString("/alive").get(5, TimeUnit.SECONDS)), "server lost its state");
        }
    }

    /**
     * Sends requests, answers them with arbitrary bytes, then hangs up: every request must complete
     * (with a value or an error) rather than hang, and the client must notice the end.
     */
    static void clientNeverHangs(byte[] garbage) throws Exception {
        InMemoryTransport[] pair = InMemoryTransport.pair("fuzz");
        try (XenStoreClient client = XenStoreClient.open(pair[0])) {
            List<CompletableFuture<?>> pending = new ArrayList<>();
            pending.add(client.read("/a"));
            pending.add(client.directory("/a"));
            pending.add(client.getPermissions("/a"));
            pending.add(client.request(new Request.TransactionStart()));
            pending.add(client.watch("/w"));
            pair[1].write(List.of(ByteBuffer.wrap(garbage)));
            pair[1].close();
            for (CompletableFuture<?> f : pending) {
                try {
                    f.get(5, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException done) {
                    // Completed exceptionally: also an answer.
                }
            }
            client.connection().closedFuture().handle((v, e) -> null).get(5, TimeUnit.SECONDS);
            check(!client.connection().isOpen(), "client did not notice the hang-up");
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
