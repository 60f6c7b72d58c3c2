package io.xenops.ctl.api;

/** Body of POST /v1/invocations. Null fields are left out so the daemon's defaults apply. */
public record InvocationRequest(String image, String input, Integer timeoutMs) {
    public InvocationRequest {
        if (image == null) {
            throw new IllegalArgumentException("image is required");
        }
    }
}
