package io.xenops.xenstore.server;

import io.xenops.xenstore.wire.Limits;

import java.util.Map;
import java.util.concurrent.ThreadFactory;

/**
 * How the in-process server runs.
 *
 * @param limits  protocol limits (a frame over maxPayload drops the connection, as in xenstored)
 * @param threads makes each connection's reader and writer threads
 * @param quotas  initial global quota values, by name (see {@link Quotas#NAMES})
 */
public record ServerOptions(Limits limits, ThreadFactory threads, Map<String, Long> quotas) {

    public ServerOptions {
        quotas = Map.copyOf(quotas);
    }

    /** Standard limits, virtual threads, and C xenstored's default quotas. */
    public static ServerOptions defaults() {
        return new ServerOptions(Limits.standard(), Thread.ofVirtual().name("xenstored-", 0).factory(),
                Quotas.DEFAULTS);
    }

    public ServerOptions withQuota(String name, long value) {
        java.util.HashMap<String, Long> q = new java.util.HashMap<>(quotas);
        q.put(name, value);
        return new ServerOptions(limits, threads, q);
    }
}
