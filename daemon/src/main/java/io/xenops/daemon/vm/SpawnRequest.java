package io.xenops.daemon.vm;

import java.time.Duration;

/**
 * A validated spawn request.
 *
 * @param waitReady answer once the guest has confirmed it runs (and returned its result, with args)
 * @param args      input for the guest application, or null for none
 * @param timeout   how long to wait for the guest, or null for the daemon's default
 */
public record SpawnRequest(String image, boolean waitReady, String args, Duration timeout) {}
