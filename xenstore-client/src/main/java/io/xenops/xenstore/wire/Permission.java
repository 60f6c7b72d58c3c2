package io.xenops.xenstore.wire;

/**
 * One entry of a node's permission list, as in {@code b0}, {@code r5}, {@code n12}.
 *
 * @param domid  the domain, 0..65535 (the DOMID_* specials are representable too)
 * @param access what that domain may do
 */
public record Permission(int domid, Access access) {

    public Permission {
        if (domid < 0 || domid > 0xffff) {
            throw new IllegalArgumentException("domid out of range: " + domid);
        }
        if (access == null) {
            throw new IllegalArgumentException("access is null");
        }
    }

    /** Parses {@code <letter><domid>}; anything else is an IllegalArgumentException. */
    public static Permission parse(String s) {
        if (s == null || s.length() < 2 || s.length() > 6) {
            throw new IllegalArgumentException("malformed permission '" + s + "'");
        }
        Access a = Access.ofLetter(s.charAt(0));
        int domid = 0;
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException("malformed domid in permission '" + s + "'");
            }
            domid = domid * 10 + (c - '0');
        }
        return new Permission(domid, a);
    }

    public String format() {
        return access.letter() + Integer.toString(domid);
    }

    @Override
    public String toString() {
        return format();
    }
}
