package io.xenops.xenstore.client;

import io.xenops.xenstore.wire.Limits;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;

/**
 * How a client connection runs.
 *
 * @param limits          protocol limits checked before sending
 * @param readerThreads   makes the one thread that reads replies; a platform thread by default
 *                        because the xenbus device is read with a blocking file read
 * @param eventExecutor   runs watch listeners (serially per watch); never the reader thread, so a
 *                        listener may block or issue requests
 * @param blockingTimeout how long the blocking convenience API waits for a reply
 */
public record ClientOptions(Limits limits, ThreadFactory readerThreads, Executor eventExecutor,
                            Duration blockingTimeout) {

    /** Standard limits, a daemon reader thread, virtual threads for listeners, 30 s blocking timeout. */
    public static ClientOptions defaults() {
        return new ClientOptions(Limits.standard(),
                Thread.ofPlatform().daemon().name("xenstore-reader-", 0).factory(),
                runnable -> Thread.ofVirtual().name("xenstore-watch").start(runnable),
                Duration.ofSeconds(30));
    }

    public ClientOptions withBlockingTimeout(Duration d) {
        return new ClientOptions(limits, readerThreads, eventExecutor, d);
    }

    public ClientOptions withEventExecutor(Executor e) {
        return new ClientOptions(limits, readerThreads, e, blockingTimeout);
    }
}
