package io.xenops.testbed;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A host directory that dom0 mounts read-only over 9p at the same path as on the host.
 *
 * @param dir       the directory
 * @param immutable true when nothing changes it while the testbed runs (the JDK, a classpath
 *                  snapshot): dom0 may then cache it (9p cache=loose, much faster under TCG). Other
 *                  shares are read uncached, so dom0 never mixes old and new bytes of a file that is
 *                  rewritten on the host (another build replacing a jar, say).
 */
public record Share(Path dir, boolean immutable) {

    public Share {
        Objects.requireNonNull(dir, "dir");
        String s = dir.toString();
        if (!dir.isAbsolute() || s.contains(" ") || s.contains(":") || s.contains("\"") || s.contains("$") || s.contains("`")
                || s.contains(",")) {
            throw new TestbedException("cannot share this path into dom0 (relative, or a space, colon, comma or shell character): " + dir);
        }
    }
}
