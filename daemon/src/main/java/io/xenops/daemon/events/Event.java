package io.xenops.daemon.events;

import java.time.Instant;

/**
 * "Look at {@code subject}": an event names what changed and how, never carries the object itself, so a
 * client that missed some can always catch up by reading current state.
 *
 * @param id      strictly increasing within one daemon's life; resume after it with {@code since}
 * @param kind    e.g. {@code vm.running}, {@code vm.exited}, {@code pool.changed}, {@code task.changed}
 * @param subject a VM id, image name or task id
 */
public record Event(long id, String kind, String subject, Instant at) {}
