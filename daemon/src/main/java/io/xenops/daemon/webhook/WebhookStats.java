package io.xenops.daemon.webhook;

/**
 * Counters since start (for metrics and tests) and the current load.
 *
 * @param submitted events handed to the dispatcher
 * @param delivered deliveries that got a 2xx
 * @param gaveUp    deliveries abandoned after their attempts or time ran out, or refused for good
 * @param dropped   deliveries pushed out of the full queue or abandoned at shutdown
 * @param attempts  POSTs started (retries included)
 * @param retries   attempts after the first
 * @param timeouts  attempts that hit the per-attempt timeout
 * @param queued    deliveries waiting for a slot or for their next retry
 * @param inFlight  POSTs in progress
 */
public record WebhookStats(long submitted, long delivered, long gaveUp, long dropped, long attempts, long retries,
                           long timeouts, int queued, int inFlight) {}
