package io.xenops.driver.libvirt;

import io.xenops.driver.DomainInfo;
import io.xenops.driver.DomainState;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.libvirt.Domain;

/**
 * One domain as the driver holds it. Written by the thread that creates or adopts it, by libvirt's
 * event-loop thread and by the console reader; every mutable field is volatile or atomic.
 */
final class LibvirtDomain {
    final String id;
    final String uuid;
    final boolean adopted;

    volatile DomainRecord record;
    /** libvirt's handle; replaced when a lost connection is reopened (handles belong to a connection). */
    volatile Domain handle;
    volatile GuestConsole console;
    volatile DomainState state = DomainState.PAUSED;
    /** Create or adopt finished: only then is the domain listed, addressable, and are its ends reported. */
    volatile boolean ready;
    /** The driver is destroying it (destroy, failed create): its end is expected and reported to nobody. */
    volatile boolean quiet;
    volatile Integer exitRequested;
    volatile String panicLine;
    /** nanoTime of the first sign of the end, so Exited carries when it happened, not when it was classified. */
    volatile long endNanos;
    /** Exactly one end is reported. */
    final AtomicBoolean ended = new AtomicBoolean();
    /** Exactly one thread removes what the driver made for it. */
    final AtomicBoolean cleaned = new AtomicBoolean();

    LibvirtDomain(String id, String uuid, DomainRecord record, boolean adopted) {
        this.id = id;
        this.uuid = uuid;
        this.record = record;
        this.adopted = adopted;
    }

    synchronized void noteEnd(long nanoTime) {
        if (endNanos == 0) endNanos = nanoTime;
    }

    DomainInfo info(Map<String, String> common) {
        Map<String, String> d = new LinkedHashMap<>(common);
        DomainRecord r = record;
        d.put("name", r.name());
        d.put("uuid", uuid);
        GuestConsole c = console;
        if (c != null) d.put("console", c.path().toString());
        d.put("adopted", Boolean.toString(adopted));
        return new DomainInfo(id, r.image(), state, d);
    }
}
