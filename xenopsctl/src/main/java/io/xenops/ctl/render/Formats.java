package io.xenops.ctl.render;

import io.xenops.ctl.api.Timings;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/** Number and time formatting shared by the table renderer. Locale-free on purpose: '.' always. */
final class Formats {
    private Formats() {
    }

    /** Microseconds as milliseconds with three decimals, exactly (no floating point rounding). */
    static String ms(long micros) {
        String sign = micros < 0 ? "-" : "";
        long abs = Math.abs(micros);
        long frac = abs % 1000;
        return sign + (abs / 1000) + "." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + frac;
    }

    /** "resumed 0.412 ms, ready 2.301 ms (warm)": what a spawn shows. */
    static String spawnSummary(Timings t) {
        String steps = steps(t, false);
        String path = t.path() == null ? "" : "(" + t.path() + ")";
        return steps.isEmpty() ? path : path.isEmpty() ? steps : steps + " " + path;
    }

    /** The steps that happened, in order; with {@code all}, also taken and responded. */
    static String steps(Timings t, boolean all) {
        List<String> parts = new ArrayList<>();
        if (all) {
            add(parts, "taken", t.takenUs());
        }
        add(parts, "resumed", t.resumedUs());
        add(parts, "ready", t.readyUs());
        add(parts, "result", t.resultUs());
        if (all) {
            add(parts, "responded", t.respondedUs());
        }
        return String.join(", ", parts);
    }

    private static void add(List<String> parts, String name, Long micros) {
        if (micros != null) {
            parts.add(name + " " + ms(micros) + " ms");
        }
    }

    /** Compact age like `kubectl get`: 45s, 12m, 5h, 3d. Null when the timestamp is unreadable. */
    static String age(String timestamp, Clock clock) {
        if (timestamp == null) {
            return null;
        }
        Instant created;
        try {
            created = Instant.parse(timestamp);
        } catch (DateTimeParseException e) {
            return null;
        }
        long s = Math.max(0, Duration.between(created, clock.instant()).toSeconds());
        if (s < 120) {
            return s + "s";
        }
        if (s < 120 * 60) {
            return s / 60 + "m";
        }
        if (s < 48 * 3600) {
            return s / 3600 + "h";
        }
        return s / 86400 + "d";
    }

    /** Bytes in binary units with one decimal: 6144 -> "6.0 KiB". */
    static String bytes(Long n) {
        if (n == null) {
            return null;
        }
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        long tenths = Math.round(v * 10);
        return tenths / 10 + "." + tenths % 10 + " " + units[u];
    }

    /** The first 12 hex digits of a digest, enough to tell images apart, like `docker images`. */
    static String shortDigest(String digest) {
        if (digest == null) {
            return null;
        }
        String hex = digest.startsWith("sha256:") ? digest.substring("sha256:".length()) : digest;
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
    }
}
