package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.ProtocolException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reassembles frames from a byte stream that may arrive in any fragmentation. Memory is bounded:
 * a header announcing more than the payload limit is a protocol error before anything is allocated
 * for it, so a hostile or corrupt peer cannot make us reserve 4 GiB. After an error the decoder
 * stays failed: the stream has lost its framing and no later byte can be trusted.
 */
public final class FrameDecoder {

    private final Limits limits;
    private final ByteBuffer header = ByteBuffer.allocate(Frame.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private int type;
    private int reqId;
    private int txId;
    private byte[] payload;
    private int filled;
    private ProtocolException failure;

    public FrameDecoder(Limits limits) {
        this.limits = limits;
    }

    /**
     * Consumes bytes from {@code in} and returns the next complete frame, or null when {@code in}
     * ran out first (call again with more bytes). Bytes after a complete frame stay in {@code in}.
     *
     * @throws ProtocolException if the stream announces a payload over the limit
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
            if (len > limits.maxPayload()) {
                failure = new ProtocolException("frame announces a payload of " + len
                        + " bytes, over the limit of " + limits.maxPayload());
                throw failure;
            }
            payload = new byte[(int) len];
            filled = 0;
        }
        int n = Math.min(in.remaining(), payload.length - filled);
        in.get(payload, filled, n);
        filled += n;
        if (filled < payload.length) {
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

    /** Bytes held for an incomplete frame; never more than 16 plus the payload limit. */
    public int bufferedBytes() {
        return header.position() + (payload == null ? 0 : filled);
    }
}
