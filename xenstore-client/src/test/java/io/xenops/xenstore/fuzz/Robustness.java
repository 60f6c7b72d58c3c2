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

    /** The most a server's (request) FrameDecoder may hold: one header and one maximal payload. */
    static final int MAX_BUFFERED = Frame.HEADER_SIZE + Limits.XENSTORE_PAYLOAD_MAX;
    /** The most a client's (reply) FrameDecoder may hold: one header and the reply ceiling. */
    static final int MAX_REPLY_BUFFERED = Frame.HEADER_SIZE + Limits.REPLY_PAYLOAD_MAX;

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
     * Feeds {@code stream} in pieces of the given sizes to a server's decoder (requests, at most
     * 4096 bytes each) and to a client's decoder (replies, up to the reply ceiling), and decodes
     * every frame as a request and as a reply to {@code shape} respectively.
     *
     * @return frames decoded by either
     */
    static int decodeStream(byte[] stream, int[] pieces, Request<?> shape) {
        return decodeStream(stream, pieces, shape, true) + decodeStream(stream, pieces, shape, false);
    }

    private static int decodeStream(byte[] stream, int[] pieces, Request<?> shape, boolean asRequests) {
        Limits limits = Limits.standard();
        FrameDecoder d = asRequests ? FrameDecoder.forRequests(limits) : FrameDecoder.forReplies(limits);
        int ceiling = asRequests ? Limits.XENSTORE_PAYLOAD_MAX : Limits.REPLY_PAYLOAD_MAX;
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
                    check(f.payload().length <= ceiling, "payload over the limit was returned");
                    if (asRequests) {
                        try {
                            requests.decode(f);
                        } catch (XenStoreErrorException e) {
                            check(e.code() == ErrorCode.EINVAL, "request decoding failed with " + e.code());
                        }
                    } else {
                        try {
                            replies.decode(shape, f);
                        } catch (XenStoreErrorException | ProtocolException expected) {
                            // The two ways a reply may legitimately fail.
                        }
                    }
                }
                check(d.bufferedBytes() <= Frame.HEADER_SIZE + ceiling, "decoder holds " + d.bufferedBytes() + " bytes");
                // Memory follows the bytes that arrived, not what a header announced.
                check(d.allocatedBytes() <= Math.max(Limits.XENSTORE_PAYLOAD_MAX, 2 * d.bufferedBytes()),
                        "decoder allocated " + d.allocatedBytes() + " bytes for " + d.bufferedBytes() + " received");
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
