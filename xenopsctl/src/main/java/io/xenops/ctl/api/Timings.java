package io.xenops.ctl.api;

/** Microseconds since the daemon received the spawn request; absent steps are null. */
public record Timings(String path, String receivedAt, Long takenUs, Long resumedUs, Long readyUs,
                      Long resultUs, Long respondedUs) {
}
