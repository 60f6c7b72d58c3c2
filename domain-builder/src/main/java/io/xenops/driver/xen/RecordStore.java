package io.xenops.driver.xen;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One directory per domain under {@code <stateDir>/domains}. Records are replaced by write, fsync,
 * rename, fsync of the directory: a crash leaves the old or the new record, and a record that adopt
 * must see is on disk before xl is asked to create anything.
 */
final class RecordStore {
    static final String RECORD = "domain.json";
    static final String XL_CONFIG = "xl.cfg";

    private final Path domainsDir;
    private final ObjectMapper mapper = new ObjectMapper();

    RecordStore(Path domainsDir) {
        this.domainsDir = domainsDir;
    }

    Path dir(String id) {
        return domainsDir.resolve(id);
    }

    /** Creates the directory and the first record; fails if the id is in use. */
    void create(XenDomainRecord record) throws IOException {
        Files.createDirectories(domainsDir);
        Files.createDirectory(dir(record.id()));
        write(record);
        fsync(domainsDir);
    }

    void write(XenDomainRecord record) throws IOException {
        Path dir = dir(record.id());
        Path tmp = dir.resolve(RECORD + ".tmp");
        writeSynced(tmp, mapper.writeValueAsBytes(record));
        Files.move(tmp, dir.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsync(dir);
    }

    /** Writes a file next to the record (the xl config), synced so a restart can reproduce a build. */
    Path writeFile(String id, String name, String content) throws IOException {
        Path p = dir(id).resolve(name);
        writeSynced(p, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return p;
    }

    Optional<XenDomainRecord> read(String id) {
        Path p = dir(id).resolve(RECORD);
        if (!Files.isRegularFile(p)) return Optional.empty();
        try {
            return Optional.of(mapper.readValue(p.toFile(), XenDomainRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    List<String> ids() throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(domainsDir)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(domainsDir)) {
            for (Path p : ds) if (Files.isDirectory(p)) out.add(p.getFileName().toString());
        }
        out.sort(null);
        return out;
    }

    /** Removes the directory, the record last, so a crash in between still leaves the domain owned. */
    void remove(String id) throws IOException {
        Path dir = dir(id);
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> !p.getFileName().toString().equals(RECORD)).sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir.resolve(RECORD));
        Files.deleteIfExists(dir);
        fsync(domainsDir);
    }

    private static void writeSynced(Path p, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
    }

    private static void fsync(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
