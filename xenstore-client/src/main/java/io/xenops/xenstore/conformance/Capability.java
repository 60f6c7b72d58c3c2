package io.xenops.xenstore.conformance;

/** What a target can do beyond a plain dom0 connection; checks that need more are skipped. */
public enum Capability {
    /** Can open unprivileged connections as a guest domain (permission and quota checks). */
    DOMAIN_CONNECTIONS,
    /** Accepts INTRODUCE/RELEASE for made-up domains (no real ring page needed). */
    FAKE_DOMAINS,
    /** Implements GET/SET_QUOTA and GET/SET_FEATURE (newest C xenstored, our server). */
    QUOTA_AND_FEATURE_REQUESTS,
    /**
     * Xen's own command-line tools (xenstore-read, -write, -list, -rm, -chmod, -exists, from
     * xenstore-utils, built on C libxenstore) are on the PATH and reach the same server: interop
     * checks against the reference client.
     */
    XENSTORE_TOOLS
}
