package io.xenops.image.store;

import io.xenops.image.Image;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * How a {@link CasImageStore} behaves.
 *
 * @param maxImageBytes largest kernel accepted (import and pull)
 * @param partialTtl    how long gc keeps an unfinished download for a later pull to resume
 * @param inUse         the daemon's view of what its pools and VMs use: gc never evicts and rm never removes
 *                      an image it matches, whatever the budget. Pins ({@link CasImageStore#pin}) do the same
 *                      across processes
 * @param hooks         test seam; {@link StoreHooks#NONE} in production
 */
public record StoreOptions(long maxImageBytes, Duration partialTtl, Predicate<Image> inUse, StoreHooks hooks,
                           Clock clock) {
    public static final long DEFAULT_MAX_IMAGE_BYTES = 256L << 20;

    public StoreOptions {
        if (maxImageBytes < 64) throw new IllegalArgumentException("maxImageBytes too small: " + maxImageBytes);
        Objects.requireNonNull(partialTtl, "partialTtl");
        Objects.requireNonNull(inUse, "inUse");
        Objects.requireNonNull(hooks, "hooks");
        Objects.requireNonNull(clock, "clock");
    }

    public static StoreOptions defaults() {
        return new StoreOptions(DEFAULT_MAX_IMAGE_BYTES, Duration.ofDays(1), image -> false, StoreHooks.NONE,
                Clock.systemUTC());
    }

    public StoreOptions withMaxImageBytes(long v) { return new StoreOptions(v, partialTtl, inUse, hooks, clock); }

    public StoreOptions withPartialTtl(Duration v) { return new StoreOptions(maxImageBytes, v, inUse, hooks, clock); }

    public StoreOptions withInUse(Predicate<Image> v) { return new StoreOptions(maxImageBytes, partialTtl, v, hooks, clock); }

    public StoreOptions withHooks(StoreHooks v) { return new StoreOptions(maxImageBytes, partialTtl, inUse, v, clock); }

    public StoreOptions withClock(Clock v) { return new StoreOptions(maxImageBytes, partialTtl, inUse, hooks, v); }
}
