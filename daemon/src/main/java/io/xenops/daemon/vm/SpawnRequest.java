package io.xenops.daemon.vm;

import java.time.Duration;

/**
 * A validated spawn request.
 *
 * @param waitReady   answer once the guest has confirmed it runs (and returned its result, with args)
 * @param args        input for the guest application, or null for none
 * @param timeout     how long to wait for the guest, or null for the daemon's default
 * @param owner       who asks (a token's name), or null when the API is open; quotas count by owner
 * @param maxVms      the owner's quota of VMs it may hold at once (0: unlimited)
 * @param callbackUrl receives ready/exited events for this VM, or null
 */
public record SpawnRequest(String image, boolean waitReady, String args, Duration timeout, String owner, int maxVms,
                           String callbackUrl) {
    public static SpawnRequest of(String image, boolean waitReady, String args) {
        return new SpawnRequest(image, waitReady, args, null, null, 0, null);
    }
}
