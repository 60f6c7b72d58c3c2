package io.xenops.testbed;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Freezes a classpath for dom0: jars are hard-linked (copied across file systems) and class
 * directories copied (javac rewrites a class file in place, which a link would follow) into one
 * directory, so that a concurrent build on the host (another engineer's
 * mvn install replacing a jar in the local repository, a clean of a module) cannot change what a
 * dom0 JVM is reading. A hard link keeps the old file's bytes even when the original is replaced, and
 * costs nothing. The snapshot is then an immutable share that dom0 may cache.
 */
public final class ClasspathSnapshot {

    private ClasspathSnapshot() {
    }

    /** Returns {@code java} with its classpath pointing into a fresh snapshot under {@code dir}. */
    public static Dom0Java of(Dom0Java java, Path dir) {
        try {
            Files.createDirectories(dir);
            List<Path> entries = new ArrayList<>();
            int i = 0;
            for (Path entry : java.classpath()) {
                if (!Files.exists(entry)) {
                    continue;
                }
                Path target = dir.resolve(String.format("%03d-%s", i++, entry.getFileName()));
                if (Files.isDirectory(entry)) {
                    copyTree(entry, target);
                } else {
                    linkOrCopy(entry, target);
                }
                entries.add(target);
            }
            return new Dom0Java(java.javaHome(), entries, java.jvmOptions(), java.systemProperties());
        } catch (IOException e) {
            throw new TestbedException("cannot snapshot the classpath into " + dir, e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void linkOrCopy(Path from, Path to) throws IOException {
        try {
            Files.createLink(to, from);
        } catch (FileAlreadyExistsException e) {
            throw e;
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }
}
