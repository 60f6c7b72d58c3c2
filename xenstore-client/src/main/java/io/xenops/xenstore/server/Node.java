package io.xenops.xenstore.server;

import io.xenops.xenstore.wire.Permissions;

import java.util.ArrayList;
import java.util.List;

/**
 * One node, immutable: a change makes a new Node, so a transaction can hold the version it read
 * and the store can tell by generation whether a node changed since.
 *
 * @param generation store-wide counter value when this version was written; 0 for versions that
 *                   exist only inside an uncommitted transaction
 */
record Node(byte[] value, Permissions permissions, List<String> children, long generation) {

    Node {
        children = List.copyOf(children);
    }

    Node withValue(byte[] v) {
        return new Node(v, permissions, children, 0);
    }

    Node withPermissions(Permissions p) {
        return new Node(value, p, children, 0);
    }

    Node withChild(String name) {
        if (children.contains(name)) {
            return this;
        }
        List<String> c = new ArrayList<>(children.size() + 1);
        c.addAll(children);
        c.add(name);
        return new Node(value, permissions, c, 0);
    }

    Node withoutChild(String name) {
        List<String> c = new ArrayList<>(children);
        c.remove(name);
        return new Node(value, permissions, c, 0);
    }

    Node atGeneration(long g) {
        return new Node(value, permissions, children, g);
    }
}
