package io.xenops.driver;

import io.xenops.guest.GuestCommand;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One hypervisor. Every implementation (QEMU, Xen, libvirt, the in-process simulator) offers the same
 * operations; the daemon never knows which one it drives.
 *
 * <p>Ownership: a driver records a domain in its state directory before it asks the hypervisor to create
 * it, and removes the record only after the domain is gone, so that {@link #adopt()} after a crash can
 * find everything it made.
 *
 * <p>Threads: methods return quickly; slow work (starting processes) runs on the driver's own threads.
 * Futures complete on driver threads.
 */
public interface Driver extends AutoCloseable {
    /** "qemu", "xen", "libvirt" or "sim". */
    String kind();

    /** Sets the single receiver of events. Must be called before {@link #adopt()} or {@link #create}. */
    void setListener(DomainListener listener);

    /**
     * Reconnects to every domain recorded in the state directory that still exists, destroys what was
     * half-made (recorded but never completed), and forgets records of domains that are gone.
     * Returns what it adopted.
     */
    CompletableFuture<List<DomainInfo>> adopt();

    /** Builds a domain paused before its first instruction. Completes once it is paused and reachable. */
    CompletableFuture<DomainInfo> create(DomainSpec spec);

    CompletableFuture<Void> unpause(String id);

    CompletableFuture<Void> pause(String id);

    /** Sends one command to the guest's control channel. */
    CompletableFuture<Void> send(String id, GuestCommand command);

    /** Destroys the domain and everything the driver made for it. Unknown ids complete normally. */
    CompletableFuture<Void> destroy(String id);

    /** The domains this driver owns now. */
    List<DomainInfo> list();

    /** The tail of the domain's console output (bounded). */
    String console(String id);

    /** Disconnects from every domain and leaves them as they are (the daemon may be restarting). */
    @Override
    void close();
}
