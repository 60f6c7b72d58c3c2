package io.xenops.testbed;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Chooses the few host directories to share into dom0 so that every given path (classpath entries,
 * the JDK, an image) exists there at the same path. Sharing whole roots (the repository, the local
 * Maven repository) keeps the number of 9p mounts small however long the classpath is.
 */
public final class SharedDirs {

    private SharedDirs() {
    }

    /**
     * @param paths the host paths dom0 must see
     * @param roots directories to share whole when a path lies under one of them
     * @return a minimal list of directories, none inside another, that covers every existing path
     */
    public static List<Path> covering(Collection<Path> paths, Collection<Path> roots) {
        List<Path> normalizedRoots = roots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        List<Path> candidates = new ArrayList<>();
        for (Path raw : paths) {
            Path path = raw.toAbsolutePath().normalize();
            if (!Files.exists(path)) {
                continue;
            }
            Path dir = normalizedRoots.stream().filter(path::startsWith).findFirst()
                    .orElse(Files.isDirectory(path) ? path : path.getParent());
            if (dir == null || dir.getNameCount() == 0) {
                throw new TestbedException("refusing to share the host's root directory into dom0 (for " + path + ")");
            }
            candidates.add(dir);
        }
        candidates.sort(Comparator.comparingInt(Path::getNameCount).thenComparing(Path::toString));
        List<Path> chosen = new ArrayList<>();
        for (Path dir : candidates) {
            if (chosen.stream().noneMatch(dir::startsWith)) {
                chosen.add(dir);
            }
        }
        return List.copyOf(chosen);
    }
}
