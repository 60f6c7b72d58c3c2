package io.xenops.xenstore.conformance;

import io.xenops.xenstore.client.XenStoreClient;
import io.xenops.xenstore.transport.Transport;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;

/** How the suite reaches the XenStore under test. */
public interface ConformanceTarget {

    /** Names the target in reports, e.g. "oxenstored at /run/xenstored/socket". */
    String name();

    /** A new privileged (dom0) client. */
    XenStoreClient connect() throws IOException;

    /** A new raw transport, for checks that must send what the client refuses to send. */
    Transport openRaw() throws IOException;

    Set<Capability> capabilities();

    /** Which implementation answers, for the checks where the real daemons differ. */
    default ServerProfile profile() {
        return ServerProfile.CXENSTORED;
    }

    /** An unprivileged client acting as {@code domid}; only with {@link Capability#DOMAIN_CONNECTIONS}. */
    default XenStoreClient connectAsDomain(int domid) throws IOException {
        throw new UnsupportedOperationException(name() + " cannot connect as a guest domain");
    }

    /**
     * Environment for Xen's xenstore-* tools so that they reach this target (XENSTORED_PATH, which
     * libxenstore honours); only with {@link Capability#XENSTORE_TOOLS}.
     */
    default java.util.Map<String, String> toolEnvironment() {
        return java.util.Map.of();
    }

    /** How long to wait for something that should happen (nested Xen under TCG is slow). */
    default Duration patience() {
        return Duration.ofSeconds(10);
    }

    /** How long to wait to be fairly sure something does not happen. */
    default Duration quietPeriod() {
        return Duration.ofMillis(300);
    }
}
