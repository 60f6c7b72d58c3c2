package io.xenops.daemon.state;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.stream.Stream;

/**
 * One JSON file per VM under {@code <stateDir>/vms}. Writes are atomic (temp file + rename), ordered per VM,
 * and run on the given executor so no caller blocks on the disk. Writes after the first skip fsync: the
 * file survives a daemon crash without it (the page cache outlives the process), and a host crash takes
 * the VMs with it anyway.
 */
public final class StateStore implements AutoCloseable {
    private final Path dir;
    private final Executor io;
    private final ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    private final Map<String, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();
    private final FileChannel lockChannel;
    private final FileLock lock;

    /** Opens the store and takes its lock, so two daemons never share a state directory. */
    public StateStore(Path stateDir, Executor io) throws IOException {
        this.dir = stateDir.resolve("vms");
        this.io = io;
        Files.createDirectories(dir);
        lockChannel = FileChannel.open(stateDir.resolve("xenopsd.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock = lockChannel.tryLock();
        if (lock == null) {
            lockChannel.close();
            throw new IOException("another xenopsd holds " + stateDir.resolve("xenopsd.lock")
                    + "; two daemons cannot share a state directory");
        }
    }

    /** Reads every record, removing temp files a crash left behind. Called once at start. */
    public List<VmRecord> loadAll() throws IOException {
        List<VmRecord> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".tmp")) {
                    Files.deleteIfExists(f);
                } else if (name.endsWith(".json")) {
                    try {
                        out.add(json.readValue(f.toFile(), VmRecord.class));
                    } catch (IOException e) {
                        // A record that cannot be read says nothing about ownership; keep it aside for an operator.
                        Files.move(f, f.resolveSibling(name + ".corrupt"), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        return out;
    }

    /** Writes (replaces) the record; the future completes once the rename is done. */
    public CompletableFuture<Void> put(VmRecord r, boolean durable) {
        return chain(r.id(), () -> write(r, durable));
    }

    public CompletableFuture<Void> remove(String id) {
        return chain(id, () -> Files.deleteIfExists(file(id)));
    }

    /** Blocking write for the start-up path, where nothing else runs yet. */
    public void putNow(VmRecord r) throws IOException { write(r, true); }

    public void removeNow(String id) throws IOException { Files.deleteIfExists(file(id)); }

    private interface IoAction { void run() throws IOException; }

    private CompletableFuture<Void> chain(String id, IoAction action) {
        CompletableFuture<Void> next = new CompletableFuture<>();
        CompletableFuture<Void> prev = tails.put(id, next);
        CompletableFuture<Void> start = prev == null ? CompletableFuture.completedFuture(null) : prev.exceptionally(t -> null);
        start.thenRunAsync(() -> {
            try {
                action.run();
                next.complete(null);
            } catch (Throwable t) {
                next.completeExceptionally(t);
            } finally {
                tails.remove(id, next);
            }
        }, io);
        return next;
    }

    private void write(VmRecord r, boolean durable) throws IOException {
        Path target = file(r.id());
        Path tmp = target.resolveSibling(r.id() + ".json.tmp");
        byte[] bytes = json.writeValueAsBytes(r);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            if (durable) ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the state directory's file system cannot rename atomically", e);
        }
    }

    private Path file(String id) { return dir.resolve(id + ".json"); }

    @Override
    public void close() throws IOException {
        lock.release();
        lockChannel.close();
    }
}
