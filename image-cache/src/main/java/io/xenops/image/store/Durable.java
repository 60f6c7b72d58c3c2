package io.xenops.image.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** The few file operations that make the store crash-safe: fsync a file, fsync a directory, replace by rename. */
final class Durable {
    private Durable() { }

    /** Writes {@code data} to {@code tmp}, fsyncs it, renames it over {@code target}, fsyncs the directory. */
    static void replace(Path target, byte[] data, Path tmp) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        moveInto(tmp, target);
    }

    /** Atomic rename, then fsync of the target's directory so the rename itself survives a power cut. */
    static void moveInto(Path source, Path target) throws IOException {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDir(target.getParent());
    }

    static void syncDir(Path dir) throws IOException {
        // Linux lets a directory be opened read-only and fsynced; that is what makes a rename durable.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
