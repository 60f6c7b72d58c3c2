package io.xenops.driver.xen;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Console ptys as pipe pairs: the test plays the guest on the far ends. */
final class FakeConsoles implements ConsoleConnector {
    static final class Tty {
        final Pipe toHost;
        final Pipe toGuest;
        final BlockingQueue<String> guestReceived = new LinkedBlockingQueue<>();

        Tty() throws IOException {
            toHost = Pipe.open();
            toGuest = Pipe.open();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(toGuest.source()), StandardCharsets.US_ASCII))) {
                    String l;
                    while ((l = r.readLine()) != null) guestReceived.add(l);
                } catch (IOException e) {
                    // hung up
                }
            });
        }

        void guestPrints(String line) throws IOException {
            OutputStream o = Channels.newOutputStream(toHost.sink());
            o.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        String nextReceived() throws InterruptedException {
            return guestReceived.poll(5, TimeUnit.SECONDS);
        }
    }

    private final Map<String, Tty> ttys = new ConcurrentHashMap<>();

    void register(String path) {
        try {
            ttys.put(path, new Tty());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    Tty tty(int domid) {
        return ttys.get("/dev/pts/fake" + domid);
    }

    void hangUp(String path) {
        Tty t = ttys.remove(path);
        if (t == null) return;
        try {
            t.toHost.sink().close();
            t.toGuest.source().close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public Link open(Path tty) throws IOException {
        Tty t = ttys.get(tty.toString());
        if (t == null) throw new IOException("no such pty " + tty);
        if (!t.toHost.source().isOpen()) {
            // A restarted daemon opens the pty again; a pipe cannot be reopened, so a new pair stands in.
            t = new Tty();
            ttys.put(tty.toString(), t);
        }
        Tty u = t;
        InputStream in = Channels.newInputStream(u.toHost.source());
        OutputStream out = Channels.newOutputStream(u.toGuest.sink());
        return new Link() {
            @Override public InputStream in() { return in; }

            @Override public OutputStream out() { return out; }

            @Override public void close() {
                try {
                    u.toHost.source().close();
                } catch (IOException e) {
                    // already closed
                }
            }
        };
    }
}
