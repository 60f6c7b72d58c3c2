package io.xenops.ctl.api;

/**
 * A task's result as far as xenopsctl prints it: an image-pull yields an Image ({@code name},
 * {@code digest}); an image-push yields {@code reference}, {@code manifest_digest} and
 * {@code bytes_uploaded}. Fields the kind does not have stay null.
 */
public record TaskResult(String name, String digest, String reference, String manifestDigest,
                         Long bytesUploaded) {
}
