package io.xenops.xenstore.conformance;

/** What a target can do beyond a plain dom0 connection; checks that need more are skipped. */
public enum Capability {
    /** Can open unprivileged connections as a guest domain (permission and quota checks). */
    DOMAIN_CONNECTIONS,
    /** Accepts INTRODUCE/RELEASE for made-up domains (no real ring page needed). */
    FAKE_DOMAINS,
    /** Implements GET/SET_QUOTA and GET/SET_FEATURE (newest C xenstored, our server). */
    QUOTA_AND_FEATURE_REQUESTS
}
