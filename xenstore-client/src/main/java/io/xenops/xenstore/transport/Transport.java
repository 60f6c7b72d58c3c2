package io.xenops.xenstore.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A byte stream to a XenStore server. One reader thread calls {@link #read}; writers call
 * {@link #write} under their own mutual exclusion. {@link #close} from any thread must wake a
 * blocked reader (which then sees EOF or an exception), so that a closing connection never hangs.
 */
public interface Transport extends AutoCloseable {

    /** Blocks until at least one byte is read; returns -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException;

    /**
     * Writes whole frames, in order. Transports that can take several frames per system call do so;
     * the xenbus device cannot (it discards what follows the first message of a write).
     */
    void write(List<ByteBuffer> frames) throws IOException;

    /** Idempotent. */
    @Override
    void close() throws IOException;

    /** Where this transport goes, for messages. */
    String describe();
}
