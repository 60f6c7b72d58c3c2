package io.xenops.daemon.api;

import io.xenops.daemon.error.XenopsException;

/** The one place where an error becomes an HTTP status and an RFC 9457 problem type. */
final class Problems {
    record Kind(int status, String type, String title) {}

    static final String PREFIX = "urn:xenops:problem:";
    static final Kind INVALID = new Kind(400, PREFIX + "invalid-request", "Invalid request");
    static final Kind NOT_FOUND = new Kind(404, PREFIX + "not-found", "Not found");
    static final Kind UNKNOWN_IMAGE = new Kind(404, PREFIX + "unknown-image", "Unknown image");
    static final Kind UNAUTHORIZED = new Kind(401, PREFIX + "unauthorized", "Unauthorized");
    static final Kind FORBIDDEN = new Kind(403, PREFIX + "forbidden", "Forbidden");
    static final Kind QUOTA = new Kind(429, PREFIX + "quota-exceeded", "Quota exceeded");
    static final Kind RATE = new Kind(429, PREFIX + "rate-limited", "Rate limited");
    static final Kind METHOD = new Kind(405, PREFIX + "method-not-allowed", "Method not allowed");
    static final Kind CONFLICT = new Kind(409, PREFIX + "conflict", "Conflict");
    static final Kind TOO_LARGE = new Kind(413, PREFIX + "payload-too-large", "Payload too large");
    static final Kind MEDIA = new Kind(415, PREFIX + "unsupported-media-type", "Unsupported media type");
    static final Kind INTERNAL = new Kind(500, PREFIX + "internal", "Internal error");
    static final Kind DRIVER = new Kind(502, PREFIX + "driver-failure", "Hypervisor failure");
    static final Kind CAPACITY = new Kind(503, PREFIX + "capacity-exhausted", "Capacity exhausted");
    static final Kind TIMEOUT = new Kind(504, PREFIX + "guest-timeout", "Guest did not answer in time");

    private Problems() {}

    static Kind of(XenopsException e) {
        return switch (e) {
            case XenopsException.InvalidRequest x -> INVALID;
            case XenopsException.NotFound x -> NOT_FOUND;
            case XenopsException.UnknownImage x -> UNKNOWN_IMAGE;
            case XenopsException.PayloadTooLarge x -> TOO_LARGE;
            case XenopsException.UnsupportedMediaType x -> MEDIA;
            case XenopsException.Conflict x -> CONFLICT;
            case XenopsException.CapacityExhausted x -> CAPACITY;
            case XenopsException.GuestTimeout x -> TIMEOUT;
            case XenopsException.DriverFailure x -> DRIVER;
            case XenopsException.Unauthorized x -> UNAUTHORIZED;
            case XenopsException.Forbidden x -> FORBIDDEN;
            case XenopsException.QuotaExceeded x -> QUOTA;
            case XenopsException.RateLimited x -> RATE;
        };
    }
}
