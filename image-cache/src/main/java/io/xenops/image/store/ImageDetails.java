package io.xenops.image.store;

import io.xenops.image.Image;
import io.xenops.image.Manifest;
import java.time.Instant;

/**
 * Everything the store knows about one reference: what {@code xenopsctl image inspect} prints.
 *
 * @param ref          {@code name:tag}
 * @param manifest     the stored (canonical) manifest; its boot modes are those read from the ELF
 * @param configDigest digest of the manifest blob
 * @param lastUsed     the last time the image was found or pinned (the LRU clock)
 * @param pinned       held by a pin in this or another live process, or in use per the daemon's predicate
 * @param source       where it came from
 */
public record ImageDetails(String ref, Image image, Manifest manifest, String configDigest, Instant created,
                           Instant lastUsed, boolean pinned, String source) {
}
