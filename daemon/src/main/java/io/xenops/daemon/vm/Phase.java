package io.xenops.daemon.vm;

/** Where a VM is in its life, as the daemon sees it. Only RUNNING, EXITED and CRASHED are shown to clients. */
public enum Phase {
    /** Recorded; the domain is being created and booted to the edge. */
    BUILDING,
    /** Paused at the edge of boot, in a pool. */
    POOLED,
    /** Taken from a pool (or built cold) for a request that has not been answered yet. */
    SPAWNING,
    RUNNING,
    DESTROYING,
    EXITED,
    CRASHED;

    public boolean visible() { return this == RUNNING || this == EXITED || this == CRASHED; }

    public boolean gone() { return this == EXITED || this == CRASHED; }
}
