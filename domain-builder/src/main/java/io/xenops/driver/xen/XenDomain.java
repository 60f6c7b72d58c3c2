package io.xenops.driver.xen;

import io.xenops.driver.DomainState;
import io.xenops.xenstore.client.Watch;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/** One domain the driver owns, with its open channels. Mutable parts are volatile or guarded as noted. */
final class XenDomain {
    final String id;
    final XenDomainRecord record;
    final int domid;
    /** {@code /local/domain/<domid>}. */
    final String path;
    final ConsoleTail tail;
    /** Commands in order, off the caller's thread: a pty write may block while the guest is paused. */
    final ExecutorService writer;
    /** Serialises draining of {@code xenops/out}; {@link #nextOut} is guarded by it. */
    final ReentrantLock outLock = new ReentrantLock();
    /** Pause and unpause change Xen's pause count: one at a time, each only from the other state. */
    final ReentrantLock stateLock = new ReentrantLock();
    /** Where this domain's guest speaks the protocol: fixed at create, read back from XenStore on adopt. */
    final XenConfig.GuestChannel channel;
    final AtomicInteger nextIn;
    final AtomicBoolean ending = new AtomicBoolean();
    final CompletableFuture<Void> gone = new CompletableFuture<>();
    /**
     * The guest's first PANIC line, or null once the console reader has stopped without one. A crash's
     * {@code @releaseDomain} comes through XenStore and can overtake the line on xenconsoled's pty.
     */
    final CompletableFuture<String> panicOrConsoleEnd = new CompletableFuture<>();
    /** Where this domain's part of xenconsoled's log starts: a log left by an earlier domain of the name is not its. */
    final long consoleLogStart;

    volatile DomainState state;
    volatile ConsoleConnector.Link console;
    volatile Watch outWatch;
    volatile String tty;
    volatile String panicLine;
    volatile Integer exitRequested;
    int nextOut;

    XenDomain(XenDomainRecord record, DomainState state, int tailBytes, ExecutorService writer,
              XenConfig.GuestChannel channel, int nextIn, int nextOut, long consoleLogStart) {
        this.id = record.id();
        this.record = record;
        this.domid = record.domid();
        this.path = "/local/domain/" + record.domid();
        this.tail = new ConsoleTail(tailBytes);
        this.writer = writer;
        this.state = state;
        this.channel = channel;
        this.nextIn = new AtomicInteger(nextIn);
        this.nextOut = nextOut;
        this.consoleLogStart = consoleLogStart;
    }

    String inDir() { return path + "/xenops/in"; }

    String outDir() { return path + "/xenops/out"; }
}
