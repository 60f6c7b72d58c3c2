package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.InvalidRequestException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Writes the 16-byte little-endian header followed by the payload. */
public final class FrameEncoder {

    private final Limits limits;

    public FrameEncoder(Limits limits) {
        this.limits = limits;
    }

    /** Refuses a frame whose payload is over the limit: xenstored would drop the whole connection. */
    public void checkSize(Frame f) {
        if (f.payload().length > limits.maxPayload()) {
            throw new InvalidRequestException("payload of " + f.payload().length
                    + " bytes is over the XenStore limit of " + limits.maxPayload());
        }
    }

    public byte[] encode(Frame f) {
        checkSize(f);
        return encodeUnchecked(f);
    }

    /** Encodes without the size check: for tests that must send an oversized frame on purpose. */
    public static byte[] encodeUnchecked(Frame f) {
        byte[] out = new byte[Frame.HEADER_SIZE + f.payload().length];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(f.type()).putInt(f.reqId()).putInt(f.txId()).putInt(f.payload().length).put(f.payload());
        return out;
    }
}
