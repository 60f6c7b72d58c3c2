package io.xenops.image.oci;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal HTTP/1.1 server for the one failure WireMock cannot play: a response whose headers and first
 * bytes arrive at once and whose body then stops, with the connection left open. The first GET of
 * {@code stallPath} does that; later ones honour {@code Range: bytes=N-}.
 */
final class StallingServer implements AutoCloseable {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");
    private final ServerSocket server;
    private final Map<String, byte[]> routes = new ConcurrentHashMap<>();
    private final String stallPath;
    private final int stallAfter;
    private final AtomicBoolean stalled = new AtomicBoolean();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    final List<String> ranges = new CopyOnWriteArrayList<>();

    StallingServer(Map<String, byte[]> routes, String stallPath, int stallAfter) throws IOException {
        this.routes.putAll(routes);
        this.stallPath = stallPath;
        this.stallAfter = stallAfter;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::acceptLoop);
    }

    String host() { return "127.0.0.1:" + server.getLocalPort(); }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            String head = readHead(in);
            String[] lines = head.split("\r\n");
            String path = lines[0].split(" ")[1];
            String range = null;
            for (String l : lines) {
                if (l.toLowerCase().startsWith("range:")) range = l.substring(6).trim();
            }
            byte[] body = routes.get(path);
            if (body == null) {
                out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            if (path.equals(stallPath) && range != null) ranges.add(range);
            if (path.equals(stallPath) && stalled.compareAndSet(false, true)) {
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body, 0, stallAfter);
                out.flush();
                Thread.sleep(60_000); // the client must give up long before; close() ends it
                return;
            }
            Matcher m = range == null ? null : RANGE.matcher(range);
            if (m != null && m.matches()) {
                int from = Integer.parseInt(m.group(1));
                byte[] slice = Arrays.copyOfRange(body, from, body.length);
                out.write(("HTTP/1.1 206 Partial Content\r\nContent-Length: " + slice.length + "\r\nContent-Range: bytes "
                        + from + "-" + (body.length - 1) + "/" + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(slice);
            } else {
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
            }
        } catch (IOException | InterruptedException ignored) {
            // client went away or server closing
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            b.append((char) c);
            if (b.length() >= 4 && b.substring(b.length() - 4).equals("\r\n\r\n")) break;
        }
        return b.toString();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) s.close();
    }
}
