package io.xenops.driver.qemu;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
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
 * The domain directories under {@code <stateDir>/domains}: one per VM, holding {@code domain.json}
 * (the ownership record) and QEMU's sockets, pidfile and logs.
 *
 * <p>Records are replaced atomically (write a temp file, rename over), so a crash leaves either the old
 * or the new record, never half of one. The first write is fsynced, with its directory, because it is
 * the promise "this VM may exist"; later rewrites only add facts adopt can rediscover.
 */
final class DomainStore {
    static final String RECORD = "domain.json";

    private final Path domainsDir;
    private final ObjectMapper mapper;

    DomainStore(Path domainsDir, ObjectMapper mapper) {
        this.domainsDir = domainsDir;
        this.mapper = mapper;
    }

    Path dir(String id) {
        return domainsDir.resolve(id);
    }

    /** Creates the domain's directory and its first record; fails if the directory exists already. */
    void create(DomainRecord record) throws IOException {
        Files.createDirectories(domainsDir);
        Path dir = dir(record.id());
        Files.createDirectory(dir); // FileAlreadyExistsException: an id in use, or debris adopt must clean
        write(record, true);
        fsyncDirectory(domainsDir); // the new directory entry itself must survive a crash too
    }

    /** Replaces the record atomically. */
    void write(DomainRecord record, boolean fsync) throws IOException {
        Path dir = dir(record.id());
        Path tmp = dir.resolve(RECORD + ".tmp");
        byte[] bytes = mapper.writeValueAsBytes(record);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
            if (fsync) ch.force(true);
        }
        try {
            Files.move(tmp, dir.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("state directory does not support atomic rename: " + dir, e);
        }
        if (fsync) fsyncDirectory(dir);
    }

    /** The record, or empty when the directory has none (half-made) or it is unreadable. */
    Optional<DomainRecord> read(String id) {
        try {
            return Optional.of(mapper.readValue(dir(id).resolve(RECORD).toFile(), DomainRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Names of all domain directories, whatever state they are in. */
    List<String> ids() throws IOException {
        List<String> ids = new ArrayList<>();
        if (!Files.isDirectory(domainsDir)) return ids;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(domainsDir)) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) ids.add(p.getFileName().toString());
            }
        }
        return ids;
    }

    /**
     * Removes the domain's directory. The record goes last so that a crash in the middle still leaves
     * a directory adopt recognizes as ours.
     */
    void remove(String id) throws IOException {
        Path dir = dir(id);
        if (!Files.exists(dir)) return;
        Path record = dir.resolve(RECORD);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (p.equals(dir) || p.equals(record)) continue;
                Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException ignored) {
            // someone (QEMU unlinking its sockets) raced us; what remains is handled below
        }
        Files.deleteIfExists(record);
        Files.deleteIfExists(dir);
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
