package io.xenops.driver.xen;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * Opens a guest's console. xenconsoled serves each domain's console ring on a pty whose path it
 * publishes at {@code /local/domain/<domid>/console/tty}; {@link PtyConsoleConnector} opens that.
 * Tests pass pipes instead.
 */
@FunctionalInterface
public interface ConsoleConnector {
    Link open(Path tty) throws IOException;

    /** Both directions of one console; {@link #close()} unblocks a reader blocked in {@code in}. */
    interface Link extends AutoCloseable {
        InputStream in();

        OutputStream out();

        @Override
        void close();
    }
}
