package io.xenops.daemon.webhook;

import java.time.Duration;

/**
 * The dispatcher's limits.
 *
 * @param queueCapacity  deliveries held while waiting for a slot or a retry; past it the oldest is
 *                       dropped (and counted), so a dead receiver cannot grow the daemon's memory
 * @param maxInFlight    POSTs in progress at once, across all receivers
 * @param attemptTimeout one POST, from connect to response headers; past it the attempt fails and is retried
 * @param retry          how many attempts, how far apart, and for how long in total
 */
public record WebhookSettings(int queueCapacity, int maxInFlight, Duration attemptTimeout, RetryPolicy retry) {
    public WebhookSettings {
        if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be at least 1");
        if (maxInFlight < 1) throw new IllegalArgumentException("maxInFlight must be at least 1");
        if (attemptTimeout.isNegative() || attemptTimeout.isZero()) throw new IllegalArgumentException("attemptTimeout must be positive");
    }

    public static WebhookSettings defaults() {
        return new WebhookSettings(1024, 16, Duration.ofSeconds(5), RetryPolicy.defaults());
    }
}
