package io.xenops.xenstore.server;

/** Where operations read and write nodes: the live store, or a transaction's private view of it. */
interface NodeView {

    /** The node at an absolute path, or null. */
    Node get(String path);

    void put(String path, Node node);

    void remove(String path);

    /** Nodes owned by {@code domid} as this view sees them (for the nodes quota). */
    int ownedBy(int domid);
}
