package io.xenops.it;

import java.util.Arrays;

/** Percentiles of a sample, in microseconds. */
record Stats(String name, int n, double p50, double p90, double p99, double max) {
    static Stats of(String name, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return new Stats(name, s.length, pct(s, 50), pct(s, 90), pct(s, 99), s[s.length - 1] / 1000.0);
    }

    private static double pct(long[] sorted, double p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1000.0;
    }

    String row() {
        return String.format("| %s | %d | %.3f | %.3f | %.3f | %.3f |", name, n, p50 / 1000, p90 / 1000, p99 / 1000, max / 1000);
    }
}
