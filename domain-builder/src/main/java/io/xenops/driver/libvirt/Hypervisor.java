package io.xenops.driver.libvirt;

import java.util.Locale;
import java.util.Optional;

/**
 * The libvirt drivers this driver knows how to build unikernel domains for, named by
 * {@code virConnectGetType}. Each one differs in the domain XML and in how the guest's console is reached.
 */
enum Hypervisor {
    /** qemu:///system and friends: direct kernel boot (PVH), serial console on a unix socket. */
    QEMU,
    /** xen:///system (libxl): a PVH domain; its console is Xen's PV console, which this driver does not read. */
    XEN,
    /** test:///default: libvirt's in-process mock. Nothing runs, so there is no console either. */
    TEST;

    static Optional<Hypervisor> fromConnectType(String type) {
        if (type == null) return Optional.empty();
        return switch (type.toUpperCase(Locale.ROOT)) {
            case "QEMU" -> Optional.of(QEMU);
            case "XEN", "LIBXL" -> Optional.of(XEN);
            case "TEST" -> Optional.of(TEST);
            default -> Optional.empty();
        };
    }

    /** Whether domains get a console the driver can connect to (and so whether send() can work). */
    boolean hasSocketConsole() {
        return this == QEMU;
    }

    /**
     * Whether {@code virDomainCreateXML} accepts VIR_DOMAIN_START_PAUSED. The test driver does not; there
     * the driver creates and suspends at once, which is harmless because nothing runs in a mock.
     */
    boolean startsPaused() {
        return this != TEST;
    }
}
