package io.xenops.image.store;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;

/**
 * Blocking acquisition of an exclusive lock on a whole file, across processes AND within this JVM.
 *
 * <p>POSIX record locks belong to the process, so the JDK refuses a second lock on the same file from the
 * same JVM with {@link OverlappingFileLockException} instead of blocking. Two stores on one root in one JVM
 * (tests, or a daemon and an embedded CLI) would otherwise fail; here they wait their turn. Polling is
 * fine: the store's critical sections are a rename or two.
 */
final class FileLocks {
    private static final long POLL_MILLIS = 5;

    private FileLocks() { }

    static FileLock lock(FileChannel ch) throws IOException {
        while (true) {
            try {
                return ch.lock();
            } catch (OverlappingFileLockException sameJvm) {
                pause();
            }
        }
    }

    /** The lock if nobody (this JVM included) holds it, else null. */
    static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException sameJvm) {
            return null;
        }
    }

    private static void pause() throws InterruptedIOException {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a store lock");
        }
    }
}
