package io.xenops.xenstore.server;

import io.xenops.xenstore.wire.Access;
import io.xenops.xenstore.wire.Permissions;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The committed tree, a map from absolute path to node (parents list their children by name).
 * Not thread-safe: the server runs every request under one lock, as xenstored is single-threaded.
 */
final class Store implements NodeView {

    private final Map<String, Node> nodes = new HashMap<>();
    private final Map<Integer, Integer> owned = new HashMap<>();
    private long generation;

    Store() {
        Permissions dom0Only = Permissions.owner(0, Access.NONE);
        put("/", new Node(new byte[0], dom0Only, List.of(), 0));
    }

    long nextGeneration() {
        return ++generation;
    }

    @Override
    public Node get(String path) {
        return nodes.get(path);
    }

    @Override
    public void put(String path, Node node) {
        Node stamped = node.atGeneration(nextGeneration());
        Node old = nodes.put(path, stamped);
        if (old != null) {
            count(old.permissions().owner(), -1);
        }
        count(stamped.permissions().owner(), +1);
    }

    @Override
    public void remove(String path) {
        Node old = nodes.remove(path);
        if (old != null) {
            count(old.permissions().owner(), -1);
        }
    }

    @Override
    public int ownedBy(int domid) {
        return owned.getOrDefault(domid, 0);
    }

    int size() {
        return nodes.size();
    }

    private void count(int domid, int delta) {
        owned.merge(domid, delta, (a, b) -> a + b == 0 ? null : a + b);
    }
}
