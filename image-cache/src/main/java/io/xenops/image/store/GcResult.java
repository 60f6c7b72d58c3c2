package io.xenops.image.store;

import java.util.List;

/**
 * What a garbage collection did.
 *
 * @param evicted      references dropped to get under the budget, least recently used first
 * @param blobsRemoved blobs deleted (unreferenced before, or freed by evictions)
 * @param bytesFreed   bytes of those blobs
 * @param bytesUsed    bytes of blobs left
 * @param budgetBytes  the budget asked for
 * @param partialsRemoved unfinished downloads older than the TTL, deleted
 * @param withinBudget false when pinned or in-use images alone exceed the budget
 */
public record GcResult(List<String> evicted, int blobsRemoved, long bytesFreed, long bytesUsed, long budgetBytes,
                       int partialsRemoved, boolean withinBudget) {
    public GcResult {
        evicted = List.copyOf(evicted);
    }
}
