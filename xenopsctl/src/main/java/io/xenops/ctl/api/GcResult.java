package io.xenops.ctl.api;

import java.util.List;

/** Answer of POST /v1/images/gc. */
public record GcResult(List<String> evicted, Integer blobsRemoved, Long bytesFreed, Long bytesUsed,
                       Long budgetBytes, Boolean withinBudget) {
    public GcResult {
        evicted = evicted == null ? List.of() : List.copyOf(evicted);
    }
}
