package io.xenops.xenstore.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An open transaction: a private overlay over the store plus the generation of every committed
 * node it looked at. It commits only if none of those changed meanwhile (C xenstored's
 * fine-grained rule: unrelated writes by others do not cause EAGAIN).
 */
final class TransactionState implements NodeView {

    /** Marks a node deleted inside the transaction. */
    private static final Node DELETED = new Node(new byte[0],
            io.xenops.xenstore.wire.Permissions.owner(0, io.xenops.xenstore.wire.Access.NONE), List.of(), -1);

    final int id;
    private final Store store;
    private final Map<String, Node> overlay = new HashMap<>();
    private final Map<String, Long> seen = new HashMap<>();
    private final List<PendingEvent> events = new ArrayList<>();
    private final Map<Integer, Integer> ownedDelta = new HashMap<>();

    record PendingEvent(String path, boolean recursive, Node node) {
    }

    TransactionState(int id, Store store) {
        this.id = id;
        this.store = store;
    }

    private Node base(String path) {
        Node n = store.get(path);
        seen.putIfAbsent(path, n == null ? -1L : n.generation());
        return n;
    }

    @Override
    public Node get(String path) {
        Node o = overlay.get(path);
        if (o != null) {
            return o == DELETED ? null : o;
        }
        return base(path);
    }

    @Override
    public void put(String path, Node node) {
        Node old = get(path);
        if (old != null) {
            ownedDelta.merge(old.permissions().owner(), -1, Integer::sum);
        }
        ownedDelta.merge(node.permissions().owner(), 1, Integer::sum);
        overlay.put(path, node);
    }

    @Override
    public void remove(String path) {
        Node old = get(path);
        if (old != null) {
            ownedDelta.merge(old.permissions().owner(), -1, Integer::sum);
        }
        overlay.put(path, DELETED);
    }

    @Override
    public int ownedBy(int domid) {
        return store.ownedBy(domid) + ownedDelta.getOrDefault(domid, 0);
    }

    void addEvent(String path, boolean recursive, Node node) {
        events.add(new PendingEvent(path, recursive, node));
    }

    /** True if every node this transaction looked at is unchanged in the store. */
    boolean canCommit() {
        for (Map.Entry<String, Long> e : seen.entrySet()) {
            Node now = store.get(e.getKey());
            long g = now == null ? -1L : now.generation();
            if (g != e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Applies the overlay; parents before children so that the tree is never inconsistent. */
    List<PendingEvent> commit() {
        List<String> paths = new ArrayList<>(overlay.keySet());
        paths.sort((a, b) -> Integer.compare(a.length(), b.length()));
        for (String p : paths) {
            Node n = overlay.get(p);
            if (n == DELETED) {
                store.remove(p);
            } else {
                store.put(p, n);
            }
        }
        return events;
    }
}
