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
        // Two channels, not one: FileChannel serialises read and write on one lock, so a reader blocked
        // waiting for guest output would hold every command back (seen in dom0: ARGS never left).
        FileChannel reader = FileChannel.open(tty, StandardOpenOption.READ);
        FileChannel writer;
        try {
            writer = FileChannel.open(tty, StandardOpenOption.WRITE);
        } catch (IOException e) {
            reader.close();
            throw e;
        }
        InputStream in = Channels.newInputStream(reader);
        OutputStream out = Channels.newOutputStream(writer);
        return new Link() {
            @Override public InputStream in() { return in; }

            @Override public OutputStream out() { return out; }

            @Override public void close() {
                for (FileChannel ch : new FileChannel[] {reader, writer}) {
                    try {
                        ch.close();
                    } catch (IOException e) {
                        // The pty is gone with its domain: nothing left to release.
                    }
                }
            }
        };
    }
}
