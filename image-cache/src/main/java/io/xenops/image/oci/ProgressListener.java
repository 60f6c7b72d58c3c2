package io.xenops.image.oci;

/**
 * Bytes moved so far out of the bytes this transfer has to move (blobs already present locally or remotely
 * are not counted). Called from transfer threads, often: keep it cheap and thread-safe. The CLI draws its
 * progress bar from it, the daemon updates its task.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total) -> { };

    void progress(long bytesDone, long bytesTotal);
}
