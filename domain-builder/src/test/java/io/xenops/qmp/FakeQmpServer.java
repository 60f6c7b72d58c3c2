package io.xenops.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A scripted QMP peer on a unix socket: the test drives it line by line. One connection at a time. */
final class FakeQmpServer implements AutoCloseable {
    static final String GREETING =
            "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 9}, \"package\": \"fake\"}, \"capabilities\": []}}";

    private final ObjectMapper mapper = new ObjectMapper();
    private final ServerSocketChannel server;
    final Path path;
    private SocketChannel conn;
    private BufferedReader in;
    private OutputStream out;

    FakeQmpServer(Path path) throws IOException {
        this.path = path;
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
    }

    void accept() throws IOException {
        conn = server.accept();
        in = new BufferedReader(new InputStreamReader(Channels.newInputStream(conn), StandardCharsets.UTF_8));
        out = Channels.newOutputStream(conn);
    }

    /** Accepts, greets, and answers qmp_capabilities, like QEMU. */
    void acceptAndHandshake() throws IOException {
        accept();
        send(GREETING);
        JsonNode caps = read();
        if (!"qmp_capabilities".equals(caps.get("execute").asText())) throw new IOException("expected qmp_capabilities: " + caps);
        reply(caps, "{}");
    }

    JsonNode read() throws IOException {
        String line = in.readLine();
        if (line == null) throw new IOException("client closed");
        return mapper.readTree(line);
    }

    void reply(JsonNode command, String returnJson) throws IOException {
        send("{\"return\": " + returnJson + ", \"id\": " + command.get("id") + "}");
    }

    void event(String name, String dataJson) throws IOException {
        send("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 1}, \"event\": \"" + name + "\""
                + (dataJson == null ? "" : ", \"data\": " + dataJson) + "}");
    }

    void send(String line) throws IOException {
        sendRaw((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void closeConnection() throws IOException {
        if (conn != null) conn.close();
    }

    @Override
    public void close() throws IOException {
        closeConnection();
        server.close();
        Files.deleteIfExists(path);
    }
}
