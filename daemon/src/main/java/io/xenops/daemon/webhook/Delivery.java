package io.xenops.daemon.webhook;

import io.vertx.core.buffer.Buffer;

/**
 * One event on its way to one receiver. Mutable, and touched only on the dispatcher's context.
 * The id and the body are fixed at submission, so every retry is byte-for-byte the same request
 * (receivers de-duplicate on {@code X-Xenops-Delivery}).
 */
final class Delivery {
    final long seq;
    final String id;
    final CallbackUrl url;
    final String event;
    final Buffer body;
    /** System.nanoTime() after which no new attempt starts. */
    final long deadlineNanos;
    int attempts;
    /** The pending retry timer while waiting, else -1. */
    long timerId = -1;
    String lastError = "";

    Delivery(long seq, String id, CallbackUrl url, String event, Buffer body, long deadlineNanos) {
        this.seq = seq;
        this.id = id;
        this.url = url;
        this.event = event;
        this.body = body;
        this.deadlineNanos = deadlineNanos;
    }
}
