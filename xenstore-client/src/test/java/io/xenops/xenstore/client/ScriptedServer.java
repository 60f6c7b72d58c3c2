package io.xenops.xenstore.client;

import io.xenops.xenstore.transport.InMemoryTransport;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.wire.Frame;
import io.xenops.xenstore.wire.FrameDecoder;
import io.xenops.xenstore.wire.FrameEncoder;
import io.xenops.xenstore.wire.Limits;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** The server end of an in-memory connection, driven by hand from a test. */
final class ScriptedServer implements AutoCloseable {

    final Transport clientEnd;
    private final InMemoryTransport serverEnd;
    private final FrameDecoder decoder = new FrameDecoder(Limits.standard());
    private final ByteBuffer buf = ByteBuffer.allocate(65536).flip();

    ScriptedServer() {
        InMemoryTransport[] pair = InMemoryTransport.pair("scripted");
        clientEnd = pair[0];
        serverEnd = pair[1];
    }

    /** The next request the client sent (blocks). */
    Frame take() throws IOException {
        while (true) {
            Frame f = decoder.next(buf);
            if (f != null) {
                return f;
            }
            buf.clear();
            if (serverEnd.read(buf) < 0) {
                throw new IOException("client closed");
            }
            buf.flip();
        }
    }

    void send(Frame f) throws IOException {
        sendRaw(FrameEncoder.encodeUnchecked(f));
    }

    void sendRaw(byte[] bytes) throws IOException {
        serverEnd.write(List.of(ByteBuffer.wrap(bytes)));
    }

    @Override
    public void close() {
        serverEnd.close();
    }
}
