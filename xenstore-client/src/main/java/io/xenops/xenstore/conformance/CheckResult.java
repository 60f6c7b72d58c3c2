package io.xenops.xenstore.conformance;

import java.time.Duration;

/** The outcome of one check on one target. */
public record CheckResult(String check, Status status, String detail, Duration took) {

    public enum Status { PASSED, FAILED, SKIPPED }

    public boolean passed() {
        return status == Status.PASSED;
    }
}
