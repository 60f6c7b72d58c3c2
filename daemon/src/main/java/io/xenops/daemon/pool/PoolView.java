package io.xenops.daemon.pool;

/** A snapshot of one pool, for clients. */
public record PoolView(String image, int target, int ready, int building, long spawnedWarm, long spawnedCold,
                       long buildFailures, String lastError) {}
