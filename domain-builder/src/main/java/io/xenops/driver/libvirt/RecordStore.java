package io.xenops.driver.libvirt;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One directory per domain under {@code <stateDir>/domains}: the ownership record and the console socket.
 * Records are replaced by write-then-rename, so a crash leaves the old or the new one, never half. Every
 * write is fsynced with its directory: there are two per domain, and both are promises adopt relies on.
 */
final class RecordStore {
    static final String RECORD = "domain.json";
    static final String CONSOLE_SOCKET = "console.sock";

    private final Path domainsDir;
    private final ObjectMapper mapper = new ObjectMapper();

    RecordStore(Path domainsDir) {
        this.domainsDir = domainsDir;
    }

    Path dir(String id) {
        return domainsDir.resolve(id);
    }

    Path consoleSocket(String id) {
        return dir(id).resolve(CONSOLE_SOCKET);
    }

    /** Creates the domain's directory and first record; fails when the directory exists (id in use). */
    void create(DomainRecord record) throws IOException {
        Files.createDirectories(domainsDir);
        Files.createDirectory(dir(record.id()));
        write(record);
        fsync(domainsDir);
    }

    void write(DomainRecord record) throws IOException {
        Path dir = dir(record.id());
        Path tmp = dir.resolve(RECORD + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(mapper.writeValueAsBytes(record));
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        Files.move(tmp, dir.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsync(dir);
    }

    /** The record, or empty when the directory has none or it cannot be read. */
    Optional<DomainRecord> read(String id) {
        Path p = dir(id).resolve(RECORD);
        if (!Files.isRegularFile(p)) return Optional.empty();
        try {
            return Optional.of(mapper.readValue(p.toFile(), DomainRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Every domain directory, whatever it holds. */
    List<String> ids() throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(domainsDir)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(domainsDir)) {
            for (Path p : ds) if (Files.isDirectory(p)) out.add(p.getFileName().toString());
        }
        return out;
    }

    /** Removes the directory; the record goes last, so a crash midway still leaves something adopt recognises. */
    void remove(String id) throws IOException {
        Path dir = dir(id);
        if (!Files.exists(dir)) return;
        Path record = dir.resolve(RECORD);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir) && !p.equals(record)) Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException ignored) {
            // libvirt unlinking the console socket at the same moment
        }
        Files.deleteIfExists(record);
        Files.deleteIfExists(dir);
    }

    private static void fsync(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
