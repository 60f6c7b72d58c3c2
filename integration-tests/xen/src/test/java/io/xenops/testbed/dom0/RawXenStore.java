package io.xenops.testbed.dom0;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * The XenStore wire protocol, spoken raw over xenstored's unix socket: just enough to prove that the
 * testbed's xenstored answers Java 25 code (the project's real client is xenstore-client). A message
 * is a header of four little-endian u32 (type, req_id, tx_id, len) and len bytes of payload.
 */
final class RawXenStore implements AutoCloseable {

    static final int DIRECTORY = 1;
    static final int READ = 2;
    static final int WATCH = 4;
    static final int UNWATCH = 5;
    static final int TRANSACTION_START = 6;
    static final int TRANSACTION_END = 7;
    static final int GET_DOMAIN_PATH = 10;
    static final int WRITE = 11;
    static final int RM = 13;
    static final int WATCH_EVENT = 15;
    static final int ERROR = 16;

    /** One message off the wire. */
    record Message(int type, int reqId, int txId, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** Payload split on NUL, trailing empty part dropped. */
        List<String> parts() {
            List<String> parts = new ArrayList<>(Arrays.asList(text().split("\0", -1)));
            if (!parts.isEmpty() && parts.getLast().isEmpty()) {
                parts.removeLast();
            }
            return parts;
        }
    }

    /** xenstored answered with an ERROR message (its payload is an errno name like ENOENT). */
    static final class XsError extends IOException {
        private static final long serialVersionUID = 1L;
        final String errno;

        XsError(String errno) {
            super("xenstored error " + errno);
            this.errno = errno;
        }
    }

    private final SocketChannel channel;
    private final Deque<Message> events = new ArrayDeque<>();
    private int nextReqId = 1;

    RawXenStore(Path socket) throws IOException {
        this.channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    /** Sends a request and returns its reply; watch events read meanwhile are queued for {@link #nextEvent}. */
    Message request(int type, int txId, byte[] payload) throws IOException {
        int reqId = nextReqId++;
        ByteBuffer out = ByteBuffer.allocate(16 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(type).putInt(reqId).putInt(txId).putInt(payload.length).put(payload).flip();
        while (out.hasRemaining()) {
            channel.write(out);
        }
        while (true) {
            Message m = readMessage();
            if (m.type() == WATCH_EVENT) {
                events.addLast(m);
                continue;
            }
            if (m.reqId() != reqId) {
                throw new IOException("reply for request " + m.reqId() + " while waiting for " + reqId);
            }
            if (m.type() == ERROR) {
                throw new XsError(m.parts().isEmpty() ? "?" : m.parts().getFirst());
            }
            if (m.type() != type) {
                throw new IOException("reply type " + m.type() + " to request type " + type);
            }
            return m;
        }
    }

    /** The next watch event, waiting for one if none is queued. */
    Message nextEvent() throws IOException {
        if (!events.isEmpty()) {
            return events.removeFirst();
        }
        Message m = readMessage();
        if (m.type() != WATCH_EVENT) {
            throw new IOException("expected a watch event, got type " + m.type());
        }
        return m;
    }

    String read(int txId, String path) throws IOException {
        return request(READ, txId, nul(path)).text();
    }

    void write(int txId, String path, String value) throws IOException {
        byte[] p = nul(path);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        byte[] payload = Arrays.copyOf(p, p.length + v.length);
        System.arraycopy(v, 0, payload, p.length, v.length);
        expectOk(request(WRITE, txId, payload));
    }

    List<String> directory(int txId, String path) throws IOException {
        return request(DIRECTORY, txId, nul(path)).parts();
    }

    void rm(int txId, String path) throws IOException {
        expectOk(request(RM, txId, nul(path)));
    }

    int transactionStart() throws IOException {
        return Integer.parseInt(request(TRANSACTION_START, 0, nul("")).parts().getFirst());
    }

    void transactionEnd(int txId, boolean commit) throws IOException {
        expectOk(request(TRANSACTION_END, txId, nul(commit ? "T" : "F")));
    }

    void watch(String path, String token) throws IOException {
        expectOk(request(WATCH, 0, nul(path + "\0" + token)));
    }

    String domainPath(int domid) throws IOException {
        return request(GET_DOMAIN_PATH, 0, nul(Integer.toString(domid))).parts().getFirst();
    }

    private static void expectOk(Message m) throws IOException {
        if (!m.parts().equals(List.of("OK"))) {
            throw new IOException("expected OK, got " + m.text());
        }
    }

    private Message readMessage() throws IOException {
        ByteBuffer header = readFully(16).order(ByteOrder.LITTLE_ENDIAN);
        int type = header.getInt();
        int reqId = header.getInt();
        int txId = header.getInt();
        int len = header.getInt();
        if (len < 0 || len > 4096) {
            throw new IOException("payload length " + len + " out of the protocol's range");
        }
        return new Message(type, reqId, txId, readFully(len).array());
    }

    private ByteBuffer readFully(int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n);
        while (buf.hasRemaining()) {
            if (channel.read(buf) < 0) {
                throw new IOException("xenstored closed the connection");
            }
        }
        return buf.flip();
    }

    private static byte[] nul(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
