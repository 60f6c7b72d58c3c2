package io.xenops.xenstore.wire;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's permission list. The first entry names the owner (who may always read, write and set
 * permissions) and, by its access letter, what every domain not listed may do; later entries grant
 * specific domains specific access.
 */
public record Permissions(List<Permission> entries) {

    public Permissions {
        if (entries == null || entries.isEmpty()) {
            throw new IllegalArgumentException("a permission list has at least the owner entry");
        }
        entries = List.copyOf(entries);
    }

    public static Permissions of(Permission owner, Permission... others) {
        List<Permission> l = new ArrayList<>();
        l.add(owner);
        l.addAll(List.of(others));
        return new Permissions(l);
    }

    /** Owned by {@code domid}, with {@code others} access for everybody else. */
    public static Permissions owner(int domid, Access others) {
        return of(new Permission(domid, others));
    }

    /** Parses the strings of a GET_PERMS reply or a SET_PERMS request. */
    public static Permissions parse(List<String> strings) {
        List<Permission> l = new ArrayList<>(strings.size());
        for (String s : strings) {
            l.add(Permission.parse(s));
        }
        return new Permissions(l);
    }

    /** Parses a space- or comma-separated list such as {@code "n0 r5 b7"}, as operators type it. */
    public static Permissions parse(String text) {
        List<String> parts = new ArrayList<>();
        for (String p : text.trim().split("[\\s,]+")) {
            if (!p.isEmpty()) {
                parts.add(p);
            }
        }
        return parse(parts);
    }

    public Permission ownerEntry() {
        return entries.get(0);
    }

    public int owner() {
        return entries.get(0).domid();
    }

    /** What {@code domid} may do by these rules, ignoring privilege (dom0) and targets. */
    public Access accessFor(int domid) {
        if (domid == owner()) {
            return Access.BOTH;
        }
        for (int i = 1; i < entries.size(); i++) {
            if (entries.get(i).domid() == domid) {
                return entries.get(i).access();
            }
        }
        return ownerEntry().access();
    }

    /** The same list with a different owner domid, keeping the default access letter. */
    public Permissions withOwner(int domid) {
        List<Permission> l = new ArrayList<>(entries);
        l.set(0, new Permission(domid, l.get(0).access()));
        return new Permissions(l);
    }

    public List<String> format() {
        return entries.stream().map(Permission::format).toList();
    }

    @Override
    public String toString() {
        return String.join(" ", format());
    }
}
