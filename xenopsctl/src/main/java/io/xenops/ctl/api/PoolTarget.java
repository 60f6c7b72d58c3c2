package io.xenops.ctl.api;

/** Body of PUT /v1/pools/{image}. */
public record PoolTarget(int target) {
}
