package io.xenops.xenstore.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Finds and opens the way to xenstored, as libxenstore does: the XENSTORED_PATH environment
 * variable if set, else the unix socket in its two usual places, else the xenbus device.
 */
public final class Transports {

    public static final List<Path> DEFAULT_SOCKETS =
            List.of(Path.of("/run/xenstored/socket"), Path.of("/var/run/xenstored/socket"));

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFCHR = 0020000;

    private Transports() {
    }

    /** Opens the default XenStore transport of this host, given its environment. */
    public static Transport openDefault(Map<String, String> env) throws IOException {
        String override = env.get("XENSTORED_PATH");
        if (override != null && !override.isEmpty()) {
            return open(Path.of(override));
        }
        for (Path p : DEFAULT_SOCKETS) {
            if (Files.exists(p)) {
                return UnixSocketTransport.connect(p);
            }
        }
        if (Files.exists(XenbusDeviceTransport.DEFAULT_DEVICE)) {
            return XenbusDeviceTransport.open(XenbusDeviceTransport.DEFAULT_DEVICE);
        }
        throw new IOException("no XenStore found: none of " + DEFAULT_SOCKETS + " or "
                + XenbusDeviceTransport.DEFAULT_DEVICE + " exists (is this a Xen dom0?)");
    }

    /** Opens a path that is either xenstored's socket or a xenbus character device. */
    public static Transport open(Path path) throws IOException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return UnixSocketTransport.connect(path);
        }
        if ((mode & S_IFMT) == S_IFSOCK) {
            return UnixSocketTransport.connect(path);
        }
        if ((mode & S_IFMT) == S_IFCHR) {
            return XenbusDeviceTransport.open(path);
        }
        // Anything else (a FIFO in tests, a symlink) is opened as a device file would be.
        return XenbusDeviceTransport.open(path);
    }
}
