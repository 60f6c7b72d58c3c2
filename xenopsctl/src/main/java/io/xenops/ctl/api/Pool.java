package io.xenops.ctl.api;

/** Counters the spec marks optional are boxed so "not reported" stays distinct from zero. */
public record Pool(String image, int target, int ready, int building, Integer spawnedWarm,
                   Integer spawnedCold, Integer buildFailures, String lastError) {
}
