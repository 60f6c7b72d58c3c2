package io.xenops.daemon.webhook;

/** How a delivery ended. Reported once per delivery, on the dispatcher's context. */
public sealed interface Outcome {
    String deliveryId();

    CallbackUrl url();

    String event();

    /** POSTs made for it (0 if it never left the queue). */
    int attempts();

    /** A 2xx answer came back. */
    record Delivered(String deliveryId, CallbackUrl url, String event, int attempts, int status) implements Outcome {}

    /** Attempts or time ran out, or the receiver refused it for good (a 4xx other than 408/425/429). */
    record GaveUp(String deliveryId, CallbackUrl url, String event, int attempts, String reason) implements Outcome {}

    /** Never finished: pushed out of a full queue by newer events, or still held at shutdown. */
    record Dropped(String deliveryId, CallbackUrl url, String event, int attempts, Why why) implements Outcome {}

    enum Why { QUEUE_FULL, SHUTDOWN }
}
