package io.xenops.ctl.api;

/**
 * Body of POST /v1/vms. Null fields are left out of the JSON so the daemon's defaults
 * (wait=running, timeout 10 s) apply instead of the CLI guessing them. {@code waitFor} is the
 * API's {@code wait}: a record component cannot be called wait (it would clash with Object.wait).
 */
public record SpawnRequest(String image, String waitFor, String args, Integer timeoutMs) {
    public SpawnRequest {
        if (image == null) {
            throw new IllegalArgumentException("image is required");
        }
    }
}
