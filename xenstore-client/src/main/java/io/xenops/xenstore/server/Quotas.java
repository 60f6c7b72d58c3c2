package io.xenops.xenstore.server;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Global and per-domain quotas, enforced for unprivileged connections only (as xenstored does).
 * Names follow C xenstored: nodes owned, watches, open transactions, bytes per node value, entries
 * per permission list.
 */
final class Quotas {

    static final String NODES = "nodes";
    static final String WATCHES = "watches";
    static final String TRANSACTIONS = "transactions";
    static final String NODE_SIZE = "node-size";
    static final String PERMISSIONS = "permissions";
    static final List<String> NAMES = List.of(NODES, WATCHES, TRANSACTIONS, NODE_SIZE, PERMISSIONS);
    static final Map<String, Long> DEFAULTS = Map.of(NODES, 1000L, WATCHES, 128L, TRANSACTIONS, 10L,
            NODE_SIZE, 2048L, PERMISSIONS, 5L);

    private final Map<String, Long> global = new HashMap<>();
    private final Map<Integer, Map<String, Long>> perDomain = new HashMap<>();

    Quotas(Map<String, Long> initial) {
        global.putAll(DEFAULTS);
        global.putAll(initial);
    }

    static boolean known(String name) {
        return NAMES.contains(name);
    }

    long global(String name) {
        return global.get(name);
    }

    void setGlobal(String name, long v) {
        global.put(name, v);
    }

    long forDomain(int domid, String name) {
        Map<String, Long> m = perDomain.get(domid);
        Long v = m == null ? null : m.get(name);
        return v != null ? v : global.get(name);
    }

    void setForDomain(int domid, String name, long v) {
        perDomain.computeIfAbsent(domid, d -> new HashMap<>()).put(name, v);
    }

    void forget(int domid) {
        perDomain.remove(domid);
    }
}
