package io.xenops.driver.libvirt;

import io.xenops.driver.DomainEvent.ExitReason;

/**
 * What libvirt (or the driver's own checks) said about the end of a domain, before interpretation.
 * {@link #classify} turns it, with what the console showed, into the reason the daemon sees.
 */
enum EndSign {
    /** SHUTDOWN event, or STOPPED/SHUTDOWN: the guest powered off or reset (on QEMU the runtime's EXIT is a reset). */
    GUEST_SHUTDOWN,
    /** CRASHED event, or STOPPED/CRASHED: the hypervisor saw the guest crash. */
    GUEST_CRASHED,
    /** STOPPED/DESTROYED that the driver did not ask for: someone ran {@code virsh destroy}. */
    DESTROYED,
    /** STOPPED/FAILED: the hypervisor process died (QEMU killed, out of memory). */
    FAILED,
    /** STOPPED for another reason (migrated, saved, restored from a snapshot): gone from this host. */
    OTHER_STOP,
    /** libvirt no longer knows the domain (found after a lost connection came back). */
    VANISHED;

    /** One decision: why the domain ended. */
    record Exit(ExitReason reason, String detail) {}

    /**
     * Why it ended. A PANIC line on the console wins: the runtime prints one before it goes down, and on
     * QEMU both EXIT and a panic end in a triple fault that libvirt reports the same way. A guest that
     * stops without having been told to EXIT crashed.
     *
     * @param panicLine     the first console line starting with "PANIC ", or null
     * @param exitRequested the code of the EXIT the driver sent, or null
     * @param what          libvirt's detail, for the message
     */
    Exit classify(String panicLine, Integer exitRequested, String what) {
        if (panicLine != null && this != DESTROYED) return new Exit(ExitReason.CRASHED, panicLine);
        return switch (this) {
            case GUEST_SHUTDOWN -> exitRequested != null
                    ? new Exit(ExitReason.SHUTDOWN, "guest exited with code " + exitRequested)
                    : new Exit(ExitReason.CRASHED, "guest stopped without an EXIT (" + what + ")");
            case GUEST_CRASHED -> new Exit(ExitReason.CRASHED, "guest crashed (" + what + ")");
            case DESTROYED -> new Exit(ExitReason.KILLED, "destroyed outside xenops (" + what + ")");
            case FAILED -> new Exit(ExitReason.KILLED, "the hypervisor process died (" + what + ")");
            case OTHER_STOP -> new Exit(ExitReason.KILLED, "stopped by libvirt (" + what + ")");
            case VANISHED -> exitRequested != null
                    ? new Exit(ExitReason.SHUTDOWN, "gone after EXIT " + exitRequested)
                    : new Exit(ExitReason.KILLED, "the domain vanished (" + what + ")");
        };
    }
}
