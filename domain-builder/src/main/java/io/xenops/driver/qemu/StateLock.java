package io.xenops.driver.qemu;

import io.xenops.driver.DriverException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One driver per state directory. Two drivers on one directory would each think they own the other's
 * VMs: the second one's adopt would find their QMP sockets busy (QEMU serves one client at a time) and
 * destroy them as unreachable. An OS file lock goes away with the process, so a daemon killed with -9
 * never leaves a stale lock behind.
 */
final class StateLock implements AutoCloseable {
    private final Path file;
    private FileChannel channel; // guarded by this
    private FileLock lock; // guarded by this

    StateLock(Path stateDir) {
        this.file = stateDir.resolve("qemu-driver.lock");
    }

    /** Takes the lock, or returns at once if this driver holds it already. */
    synchronized void acquire() {
        if (lock != null) return;
        try {
            Files.createDirectories(file.getParent());
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null; // another driver in this JVM holds it
            }
            if (l == null) {
                ch.close();
                throw new DriverException("state directory " + file.getParent() + " is in use by another QEMU driver");
            }
            channel = ch;
            lock = l;
        } catch (IOException e) {
            throw new DriverException("cannot lock " + file, e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            if (lock != null) lock.release();
            if (channel != null) channel.close();
        } catch (IOException ignored) {
            // the lock dies with the channel or the process anyway
        }
        lock = null;
        channel = null;
    }
}
