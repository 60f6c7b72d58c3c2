package io.xenops.xenstore.conformance;

import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.server.XenStoreServer;
import io.xenops.xenstore.transport.Transport;

import java.util.EnumSet;
import java.util.Set;

/** Our own server, connected in memory, with every capability a socket is not needed for. */
public record InProcessTarget(XenStoreServer server) implements ConformanceTarget {

    @Override
    public String name() {
        return "in-process XenStoreServer (memory)";
    }

    @Override
    public XenStoreClient connect() {
        return XenStoreClient.open(server.connect());
    }

    @Override
    public Transport openRaw() {
        return server.connect();
    }

    @Override
    public XenStoreClient connectAsDomain(int domid) {
        return XenStoreClient.open(server.connectAsDomain(domid));
    }

    @Override
    public ServerProfile profile() {
        return ServerProfile.XENOPS;
    }

    @Override
    public Set<Capability> capabilities() {
        // Everything but Xen's tools, which need a socket to reach this server.
        return EnumSet.complementOf(EnumSet.of(Capability.XENSTORE_TOOLS));
    }
}
