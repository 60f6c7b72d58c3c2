package io.xenops.xenstore.server;

import java.io.Closeable;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the in-process server as a stand-alone "xenstored without Xen" on a unix socket, for manual
 * runs of the daemon or the CLI on a host without Xen:
 * <pre>
 * java -cp xenstore-client.jar io.xenops.xenstore.server.ServerMain /tmp/xenstored.sock
 * XENSTORED_PATH=/tmp/xenstored.sock xenopsctl xenstore ls /
 * </pre>
 * Runs until killed.
 */
public final class ServerMain {

    private ServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ServerMain SOCKET-PATH");
            System.exit(2);
        }
        Path socket = Path.of(args[0]);
        XenStoreServer server = new XenStoreServer();
        Closeable listener = server.listen(socket);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                listener.close();
            } catch (Exception ignored) {
                // Exiting anyway.
            }
            server.close();
        }));
        System.out.println("xenstored (in-process) listening on " + socket);
        new CountDownLatch(1).await();
    }
}
