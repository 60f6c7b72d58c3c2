package io.xenops.ctl.api;

import java.util.Map;

/**
 * A VM as the API returns it. Timestamps stay strings: the CLI only shows them, and parsing them
 * into java.time would need Jackson's JSR-310 module for no gain.
 */
public record Vm(String id, String image, String state, String createdAt, String result,
                 String exitReason, Timings timings, Map<String, String> driver) {
}
