package io.xenops.daemon.vm;

import java.time.Instant;

/**
 * The steps of one spawn, in microseconds since the daemon received the request; -1 for a step that did
 * not happen.
 */
public record Timings(String path, Instant receivedAt, long takenUs, long resumedUs, long readyUs, long resultUs,
                      long respondedUs) {
    public static Timings start(String path, Instant receivedAt) {
        return new Timings(path, receivedAt, -1, -1, -1, -1, -1);
    }

    public Timings taken(long us) { return new Timings(path, receivedAt, us, resumedUs, readyUs, resultUs, respondedUs); }

    public Timings resumed(long us) { return new Timings(path, receivedAt, takenUs, us, readyUs, resultUs, respondedUs); }

    public Timings ready(long us) { return new Timings(path, receivedAt, takenUs, resumedUs, us, resultUs, respondedUs); }

    public Timings result(long us) { return new Timings(path, receivedAt, takenUs, resumedUs, readyUs, us, respondedUs); }

    public Timings responded(long us) { return new Timings(path, receivedAt, takenUs, resumedUs, readyUs, resultUs, us); }
}
