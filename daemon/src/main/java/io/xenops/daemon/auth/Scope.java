package io.xenops.daemon.auth;

/** What a token may do. ADMIN implies SPAWN, which implies READ. */
public enum Scope {
    READ, SPAWN, ADMIN;

    public boolean allows(Scope needed) { return this.ordinal() >= needed.ordinal(); }
}
