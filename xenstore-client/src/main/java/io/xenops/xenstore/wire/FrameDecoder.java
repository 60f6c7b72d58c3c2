package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.ProtocolException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Reassembles frames from a byte stream that may arrive in any fragmentation. Memory is bounded:
 * a header announcing more than the decoder's ceiling is a protocol error before anything is
 * allocated for it, so a hostile or corrupt peer cannot make us reserve 4 GiB. Below the ceiling
 * the payload buffer grows with the bytes that actually arrive (from at most one standard payload),
 * so a header alone never reserves more than {@value Limits#XENSTORE_PAYLOAD_MAX} bytes. After an
 * error the decoder stays failed: the stream has lost its framing and no later byte can be trusted.
 *
 * <p>Two ceilings exist ({@link Limits}): a server decodes requests, which xenstored refuses over
 * {@link Limits#maxPayload()}; a client decodes replies, which may be longer (oxenstored's
 * DIRECTORY), up to {@link Limits#maxReplyPayload()}.
 */
public final class FrameDecoder {

    private final int ceiling;
    private final ByteBuffer header = ByteBuffer.allocate(Frame.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private int type;
    private int reqId;
    private int txId;
    private int length;
    private byte[] payload;
    private int filled;
    private ProtocolException failure;

    /** A decoder of requests: payloads up to {@link Limits#maxPayload()} (what xenstored accepts). */
    public FrameDecoder(Limits limits) {
        this(limits.maxPayload());
    }

    /** A decoder of frames whose payload is at most {@code ceiling} bytes. */
    public FrameDecoder(int ceiling) {
        if (ceiling < 0) {
            throw new IllegalArgumentException("negative ceiling");
        }
        this.ceiling = ceiling;
    }

    /** For a server: requests, up to {@link Limits#maxPayload()}. */
    public static FrameDecoder forRequests(Limits limits) {
        return new FrameDecoder(limits.maxPayload());
    }

    /** For a client: replies and watch events, up to {@link Limits#maxReplyPayload()}. */
    public static FrameDecoder forReplies(Limits limits) {
        return new FrameDecoder(limits.maxReplyPayload());
    }

    /** The largest payload this decoder accepts. */
    public int ceiling() {
        return ceiling;
    }

    /**
     * Consumes bytes from {@code in} and returns the next complete frame, or null when {@code in}
     * ran out first (call again with more bytes). Bytes after a complete frame stay in {@code in}.
     *
     * @throws ProtocolException if the stream announces a payload over the ceiling
     */
    public Frame next(ByteBuffer in) {
        if (failure != null) {
            throw failure;
        }
        if (payload == null) {
            while (header.hasRemaining() && in.hasRemaining()) {
                header.put(in.get());
            }
            if (header.hasRemaining()) {
                return null;
            }
            header.flip();
            type = header.getInt();
            reqId = header.getInt();
            txId = header.getInt();
            long len = Integer.toUnsignedLong(header.getInt());
            header.clear();
            if (len > ceiling) {
                failure = new ProtocolException("frame announces a payload of " + len
                        + " bytes, over the limit of " + ceiling);
                throw failure;
            }
            length = (int) len;
            payload = new byte[Math.min(length, Limits.XENSTORE_PAYLOAD_MAX)];
            filled = 0;
        }
        while (filled < length && in.hasRemaining()) {
            if (filled == payload.length) {
                // Only bytes that arrived are paid for: double, never past the announced length.
                payload = Arrays.copyOf(payload, (int) Math.min(length, 2L * payload.length));
            }
            int n = Math.min(in.remaining(), payload.length - filled);
            in.get(payload, filled, n);
            filled += n;
        }
        if (filled < length) {
            return null;
        }
        Frame f = new Frame(type, reqId, txId, payload);
        payload = null;
        return f;
    }

    /** True when no partial frame is buffered (a clean place for the stream to end). */
    public boolean idle() {
        return payload == null && header.position() == 0;
    }

    /** Bytes held for an incomplete frame; never more than 16 plus the ceiling. */
    public int bufferedBytes() {
        return header.position() + (payload == null ? 0 : filled);
    }

    /** Bytes allocated for the incomplete frame's payload (at most twice what arrived, or 4096). */
    public int allocatedBytes() {
        return payload == null ? 0 : payload.length;
    }
}
