package io.xenops.image.store;

/**
 * Called at each step of a commit. Production passes {@link #NONE}; crash tests throw from a step to prove
 * the store is consistent whatever point a process dies at.
 */
@FunctionalInterface
public interface StoreHooks {
    enum Step {
        /** The kernel and manifest are in this session's temporary files, fsynced; nothing shared changed. */
        STAGED,
        /** The blobs are in blobs/sha256, the index does not name them yet. */
        BLOBS_COMMITTED,
        /** The new index is written and renamed into place. */
        INDEX_COMMITTED,
        /** A pull wrote some bytes of a blob to its partial file (called after each chunk). */
        DOWNLOAD_CHUNK
    }

    StoreHooks NONE = step -> { };

    void at(Step step);
}
