package io.xenops.image.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * One open store's private directory, {@code sessions/<pid>-<start>-<random>}: its staging files and its
 * pins. A session is alive while its process is (same pid AND same start time, so a recycled pid does not
 * count). A restart deletes the directories of dead sessions: that is how a crash's temporary files go.
 *
 * <p>Liveness is not a file lock on purpose: with POSIX locks, a check that opens and closes the lock file
 * of another store in the same JVM would release that store's lock.
 */
record Session(Path dir, long pid, long startMillis) {
    static final String PINS = "pins.json";

    static Session create(Path sessions) throws IOException {
        ProcessHandle me = ProcessHandle.current();
        long start = startMillis(me).orElse(0L);
        Path dir = sessions.resolve(me.pid() + "-" + start + "-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectory(dir);
        Durable.syncDir(sessions);
        return new Session(dir, me.pid(), start);
    }

    Path tmp(String purpose) { return dir.resolve(purpose + "-" + UUID.randomUUID()); }

    Path pins() { return dir.resolve(PINS); }

    /** Whether the process that made the session directory {@code name} still runs. */
    static boolean alive(String name) {
        String[] parts = name.split("-", 3);
        if (parts.length != 3) return false;
        long pid, start;
        try {
            pid = Long.parseLong(parts[0]);
            start = Long.parseLong(parts[1]);
        } catch (NumberFormatException e) {
            return false;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isEmpty() || !p.get().isAlive()) return false;
        Optional<Long> actual = startMillis(p.get());
        return actual.isEmpty() || start == 0 || actual.get() == start;
    }

    private static Optional<Long> startMillis(ProcessHandle p) {
        return p.info().startInstant().map(Instant::toEpochMilli);
    }
}
