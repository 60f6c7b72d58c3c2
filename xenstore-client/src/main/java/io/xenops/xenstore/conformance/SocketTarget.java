package io.xenops.xenstore.conformance;

import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.transport.Transport;
import io.xenops.xenstore.transport.Transports;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * A real (or our own) xenstored reached through a path: its unix socket, or the xenbus device.
 *
 * @param path         {@code /run/xenstored/socket} or {@code /dev/xen/xenbus}
 * @param capabilities what the server there supports beyond plain dom0 requests
 * @param patience     how long to wait for what should happen
 * @param quietPeriod  how long to wait to believe that something does not happen
 * @param profile      which implementation listens there (where the real daemons differ)
 */
public record SocketTarget(Path path, Set<Capability> capabilities, Duration patience, Duration quietPeriod,
                           ServerProfile profile) implements ConformanceTarget {

    /** A target with C xenstored's behaviour (the reference; also our own server's). */
    public SocketTarget(Path path, Set<Capability> capabilities, Duration patience, Duration quietPeriod) {
        this(path, capabilities, patience, quietPeriod, ServerProfile.CXENSTORED);
    }

    @Override
    public String name() {
        return profile.cliName() + " at " + path;
    }

    @Override
    public java.util.Map<String, String> toolEnvironment() {
        return java.util.Map.of("XENSTORED_PATH", path.toString());
    }

    @Override
    public XenStoreClient connect() throws IOException {
        return XenStoreClient.open(Transports.open(path));
    }

    @Override
    public Transport openRaw() throws IOException {
        return Transports.open(path);
    }
}
