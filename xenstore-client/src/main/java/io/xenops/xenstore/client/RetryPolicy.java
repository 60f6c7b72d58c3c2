package io.xenops.xenstore.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How often a transaction is retried after EAGAIN, and how long to wait between tries. The wait
 * grows exponentially with jitter, so that two toolstacks fighting over one node stop colliding.
 *
 * @param maxAttempts total tries, at least 1
 * @param baseBackoff wait before the second try
 * @param maxBackoff  cap on any single wait
 */
public record RetryPolicy(int maxAttempts, Duration baseBackoff, Duration maxBackoff) {

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        if (baseBackoff.isNegative() || maxBackoff.isNegative()) {
            throw new IllegalArgumentException("negative backoff");
        }
    }

    public static RetryPolicy defaults() {
        return new RetryPolicy(16, Duration.ofMillis(1), Duration.ofMillis(200));
    }

    /** Wait before attempt number {@code attempt} (2 for the first retry). */
    public Duration backoff(int attempt) {
        long base = baseBackoff.toNanos();
        int shift = Math.min(30, Math.max(0, attempt - 2));
        long nanos = Math.min(maxBackoff.toNanos(), base << shift);
        if (nanos <= 0) {
            return Duration.ZERO;
        }
        return Duration.ofNanos(nanos / 2 + ThreadLocalRandom.current().nextLong(nanos / 2 + 1));
    }
}
