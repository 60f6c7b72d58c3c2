package io.xenops.xenstore.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import java.util.List;

/** A transport over a blocking NIO channel (socket or device file). */
abstract class ChannelTransport implements Transport {

    private final ByteChannel channel;
    private final String description;

    ChannelTransport(ByteChannel channel, String description) {
        this.channel = channel;
        this.description = description;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    /** Gathers all frames into as few writes as the channel allows. */
    protected void writeGathered(List<ByteBuffer> frames) throws IOException {
        if (channel instanceof GatheringByteChannel g) {
            ByteBuffer[] bufs = frames.toArray(ByteBuffer[]::new);
            long left = 0;
            for (ByteBuffer b : bufs) {
                left += b.remaining();
            }
            while (left > 0) {
                left -= g.write(bufs);
            }
        } else {
            for (ByteBuffer b : frames) {
                writeFully(b);
            }
        }
    }

    protected void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String describe() {
        return description;
    }
}
