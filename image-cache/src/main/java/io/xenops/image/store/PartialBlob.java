package io.xenops.image.store;

import io.xenops.image.Digests;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * A blob being downloaded into {@code partial/sha256/<hex>}, held under an exclusive file lock so that two
 * processes pulling the same blob never write the same file: the second waits, then finds the blob done.
 *
 * <p>The digest is computed over every byte as it is appended (after re-reading what an earlier, interrupted
 * download left), so verification costs no second pass. Bytes stay on disk across failures and restarts:
 * a later pull resumes with an HTTP Range from {@link #length()}.
 */
public final class PartialBlob implements AutoCloseable {
    private final Path path;
    private final String digest;
    private final long expectedSize;
    private final FileChannel channel;
    private final FileLock lock;
    private final StoreHooks hooks;
    private MessageDigest md = Digests.newSha256();
    private long length;
    private boolean verified;
    private final long resumedFrom;

    PartialBlob(Path path, String digest, long expectedSize, FileChannel channel, FileLock lock, StoreHooks hooks)
            throws IOException {
        this.path = path;
        this.digest = digest;
        this.expectedSize = expectedSize;
        this.channel = channel;
        this.lock = lock;
        this.hooks = hooks;
        long existing = channel.size();
        if (existing > expectedSize) {
            channel.truncate(0);
            existing = 0;
        }
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long pos = 0;
        while (pos < existing) {
            buf.clear().limit((int) Math.min(buf.capacity(), existing - pos));
            int n = channel.read(buf, pos);
            if (n < 0) break;
            md.update(buf.flip());
            pos += n;
        }
        this.length = pos;
        this.resumedFrom = pos;
    }

    public String digest() { return digest; }

    public long expectedSize() { return expectedSize; }

    /** Bytes already on disk: where the next request's Range starts. */
    public long length() { return length; }

    /** What an earlier, interrupted download had left when this one began. */
    public long resumedFrom() { return resumedFrom; }

    Path path() { return path; }

    boolean verified() { return verified; }

    /** Appends bytes the registry sent. More than the descriptor's size is a registry fault. */
    public void append(ByteBuffer data) throws IOException {
        int n = data.remaining();
        if (length + n > expectedSize) {
            throw new ImageException(Reason.REGISTRY, "registry sent more than the " + expectedSize
                    + " bytes its manifest gives for " + digest);
        }
        ByteBuffer forDigest = data.duplicate();
        while (data.hasRemaining()) channel.write(data, length + (n - data.remaining()));
        md.update(forDigest);
        length += n;
        hooks.at(StoreHooks.Step.DOWNLOAD_CHUNK);
    }

    /** Starts over: the server ignored our Range and is sending the whole blob. */
    public void restart() throws IOException {
        channel.truncate(0);
        md = Digests.newSha256();
        length = 0;
    }

    /**
     * Checks size and digest and fsyncs. On a mismatch the bytes are wrong, not merely short: they are
     * dropped so that no later pull resumes from them, and the pull fails with {@link Reason#REGISTRY}.
     */
    public void verify() throws IOException {
        if (length != expectedSize) {
            throw new ImageException(Reason.REGISTRY, "blob " + digest + " is incomplete: " + length + " of "
                    + expectedSize + " bytes");
        }
        String actual = Digests.format(md.digest());
        if (!actual.equals(digest)) {
            restart();
            throw new ImageException(Reason.REGISTRY, "digest mismatch: registry sent " + actual + " for blob " + digest);
        }
        channel.force(true);
        verified = true;
    }

    /** Deletes the bytes: they were verified but the content was rejected (not an ELF, say). */
    void discard() throws IOException {
        channel.truncate(0);
        Files.deleteIfExists(path);
    }

    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) lock.release();
        } finally {
            channel.close();
        }
    }
}
