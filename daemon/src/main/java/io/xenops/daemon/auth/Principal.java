package io.xenops.daemon.auth;

/**
 * Who is calling.
 *
 * @param maxVms        VMs it may hold at once (0: unlimited)
 * @param ratePerSecond sustained requests per second (0: unlimited)
 * @param burst         requests it may send at once above the sustained rate
 */
public record Principal(String name, Scope scope, int maxVms, double ratePerSecond, int burst) {
    /** The caller on the unix socket, trusted by the socket's file permissions. */
    public static Principal local() { return new Principal("local", Scope.ADMIN, 0, 0, 0); }

    /** Everyone, when no tokens are configured (loopback only). */
    public static Principal open() { return new Principal(null, Scope.ADMIN, 0, 0, 0); }
}
