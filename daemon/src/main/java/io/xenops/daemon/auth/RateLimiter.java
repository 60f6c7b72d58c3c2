package io.xenops.daemon.auth;

import io.xenops.daemon.error.XenopsException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/** A token bucket per principal. Confined to the daemon's control context. */
public final class RateLimiter {
    private static final class Bucket {
        double tokens;
        long lastNanos;
    }

    private final Map<String, Bucket> buckets = new HashMap<>();
    private final LongSupplier nanos;

    public RateLimiter(LongSupplier nanos) { this.nanos = nanos; }

    /** Takes one request's worth, or throws {@link XenopsException.RateLimited} saying when to retry. */
    public void acquire(Principal p) {
        if (p.name() == null || p.ratePerSecond() <= 0) return;
        long now = nanos.getAsLong();
        Bucket b = buckets.computeIfAbsent(p.name(), k -> {
            Bucket nb = new Bucket();
            nb.tokens = p.burst();
            nb.lastNanos = now;
            return nb;
        });
        b.tokens = Math.min(p.burst(), b.tokens + (now - b.lastNanos) / 1e9 * p.ratePerSecond());
        b.lastNanos = now;
        if (b.tokens < 1) {
            long retry = (long) Math.ceil((1 - b.tokens) / p.ratePerSecond());
            throw new XenopsException.RateLimited("'" + p.name() + "' is over its rate of " + p.ratePerSecond()
                    + " requests per second", Math.max(1, retry));
        }
        b.tokens -= 1;
    }
}
