package io.xenops.xenstore.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The Linux xenbus device ({@code /dev/xen/xenbus}), which relays to xenstored through the kernel.
 * Each write must hold exactly one message: the kernel's xenbus_file_write assembles a message from
 * consecutive writes and then resets its buffer, so bytes of a second message in the same write are
 * lost. Reads return reply bytes as the kernel queued them.
 */
public final class XenbusDeviceTransport extends ChannelTransport {

    public static final Path DEFAULT_DEVICE = Path.of("/dev/xen/xenbus");

    private XenbusDeviceTransport(FileChannel channel, String description) {
        super(channel, description);
    }

    public static XenbusDeviceTransport open(Path device) throws IOException {
        FileChannel ch = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new XenbusDeviceTransport(ch, "xenbus:" + device);
    }

    @Override
    public void write(List<ByteBuffer> frames) throws IOException {
        for (ByteBuffer f : frames) {
            writeFully(f);
        }
    }
}
