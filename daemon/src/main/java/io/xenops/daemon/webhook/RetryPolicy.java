package io.xenops.daemon.webhook;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * How hard to try one delivery: at most {@code maxAttempts} POSTs, none started later than
 * {@code maxTotal} after the event, spaced by exponential backoff with jitter.
 *
 * <p>Jitter is "equal jitter": the n-th wait is uniform in [b/2, b] with b = min(maxBackoff,
 * initialBackoff · 2^(n-1)). Half of it is fixed so retries do back off; half is random so many
 * deliveries that failed together (one receiver restarting) do not come back together.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration maxTotal) {
    public RetryPolicy {
        if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
        if (initialBackoff.isNegative() || initialBackoff.isZero()) throw new IllegalArgumentException("initialBackoff must be positive");
        if (maxBackoff.compareTo(initialBackoff) < 0) throw new IllegalArgumentException("maxBackoff must be >= initialBackoff");
        if (maxTotal.isNegative() || maxTotal.isZero()) throw new IllegalArgumentException("maxTotal must be positive");
    }

    /** 6 attempts over at most 5 minutes: 0.5 s, 1 s, 2 s, 4 s, 8 s apart (each halved at worst by jitter). */
    public static RetryPolicy defaults() {
        return new RetryPolicy(6, Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofMinutes(5));
    }

    /** The wait after the {@code failedAttempts}-th failure (1-based). */
    public Duration backoff(int failedAttempts, RandomGenerator random) {
        long initial = initialBackoff.toMillis();
        long cap = maxBackoff.toMillis();
        int shift = Math.min(failedAttempts - 1, 30); // past 2^30 the cap has long won; avoid overflow
        long base = Math.min(cap, initial << shift);
        long half = base / 2;
        return Duration.ofMillis(half + random.nextLong(base - half + 1));
    }
}
