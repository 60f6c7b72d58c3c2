package io.xenops.xenstore.wire;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One message as it travels: the {@code xsd_sockmsg} header (type, req_id, tx_id; len is the
 * payload length) and the payload. The type is kept as the raw code so that unknown types can be
 * carried to the layer that decides what to do with them (the server answers EINVAL, the client
 * treats it as a protocol error).
 */
public record Frame(int type, int reqId, int txId, byte[] payload) {

    public static final int HEADER_SIZE = 16;

    public Frame {
        if (payload == null) {
            throw new IllegalArgumentException("payload is null");
        }
    }

    public Frame(MessageType type, int reqId, int txId, byte[] payload) {
        this(type.code(), reqId, txId, payload);
    }

    public boolean is(MessageType t) {
        return type == t.code();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Frame f && f.type == type && f.reqId == reqId && f.txId == txId
                && Arrays.equals(f.payload, payload);
    }

    @Override
    public int hashCode() {
        return ((type * 31 + reqId) * 31 + txId) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        String name = MessageType.of(type).map(Enum::name).orElse("type" + type);
        String body = payload.length <= 64 ? HexFormat.of().formatHex(payload) : payload.length + " bytes";
        return "Frame[" + name + " req=" + Integer.toUnsignedString(reqId) + " tx="
                + Integer.toUnsignedString(txId) + " " + body + "]";
    }
}
