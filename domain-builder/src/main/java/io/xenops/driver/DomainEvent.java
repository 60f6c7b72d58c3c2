package io.xenops.driver;

import io.xenops.guest.GuestMessage;

/**
 * A lifecycle event. Events say "look at domain x"; the daemon decides what follows.
 * {@code nanoTime} is {@link System#nanoTime()} when the driver first saw the fact, so latency
 * figures do not include the time an event spent waiting in a queue.
 */
public sealed interface DomainEvent {
    String id();

    long nanoTime();

    /** The guest said something on its control channel. */
    record GuestSaid(String id, GuestMessage message, long nanoTime) implements DomainEvent {}

    /** The domain is gone: it shut down, crashed, or its hypervisor process died. */
    record Exited(String id, ExitReason reason, String detail, long nanoTime) implements DomainEvent {}

    enum ExitReason { SHUTDOWN, CRASHED, KILLED }
}
