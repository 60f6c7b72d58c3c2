package io.xenops.xenstore.transport;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;

/** xenstored's unix socket ({@code /run/xenstored/socket}), through the JDK's own unix-domain support. */
public final class UnixSocketTransport extends ChannelTransport {

    private UnixSocketTransport(SocketChannel channel, String description) {
        super(channel, description);
    }

    public static UnixSocketTransport connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot connect to XenStore socket " + socket + ": " + e.getMessage(), e);
        }
        return new UnixSocketTransport(ch, "unix:" + socket);
    }

    /** Wraps an accepted or already connected channel (used by the in-process server). */
    public static UnixSocketTransport of(SocketChannel channel, String description) {
        return new UnixSocketTransport(channel, description);
    }

    @Override
    public void write(List<ByteBuffer> frames) throws IOException {
        writeGathered(frames);
    }
}
