package io.xenops.driver.xen;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The console pty of xenconsoled. xenconsoled puts it in raw mode (no echo, no line editing), so bytes
 * pass unchanged. FileChannel rather than FileInputStream: closing the channel wakes a thread blocked
 * in read, which is how {@code close()} of the driver stops its console readers.
 */
public final class PtyConsoleConnector implements ConsoleConnector {
    @Override
    public Link open(Path tty) throws IOException {
        FileChannel ch = FileChannel.open(tty, StandardOpenOption.READ, StandardOpenOption.WRITE);
        InputStream in = Channels.newInputStream(ch);
        OutputStream out = Channels.newOutputStream(ch);
        return new Link() {
            @Override public InputStream in() { return in; }

            @Override public OutputStream out() { return out; }

            @Override public void close() {
                try {
                    ch.close();
                } catch (IOException e) {
                    // The pty is gone with its domain: nothing left to release.
                }
            }
        };
    }
}
