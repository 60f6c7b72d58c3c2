package io.xenops.xenstore.client;

import io.xenops.xenstore.error.ErrorCode;
import io.xenops.xenstore.error.NoSuchNodeException;
import io.xenops.xenstore.error.ProtocolException;
import io.xenops.xenstore.error.XenStoreErrorException;
import io.xenops.xenstore.wire.DirectoryChunk;
import io.xenops.xenstore.wire.Limits;
import io.xenops.xenstore.wire.Paths;
import io.xenops.xenstore.wire.Permissions;
import io.xenops.xenstore.wire.Request;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The node operations, asynchronous, shared by the client (outside any transaction) and by a
 * {@link Transaction}. Paths are checked before anything is sent; a bad one gives a failed future
 * with {@link io.xenops.xenstore.error.InvalidRequestException}.
 */
public sealed interface XenStoreOperations permits XenStoreClient, Transaction {

    /** Sends a request in this context (the transaction's tx_id where the request takes one). */
    <R> CompletableFuture<R> request(Request<R> request);

    Limits limits();

    default CompletableFuture<byte[]> read(String path) {
        return checked(path).thenCompose(p -> request(new Request.Read(p)));
    }

    default CompletableFuture<String> readString(String path) {
        return read(path).thenApply(b -> new String(b, StandardCharsets.UTF_8));
    }

    /** The value, or empty when the node does not exist. */
    default CompletableFuture<Optional<byte[]>> readIfExists(String path) {
        return read(path).handle((v, e) -> {
            if (e == null) {
                return Optional.of(v);
            }
            if (unwrap(e) instanceof NoSuchNodeException) {
                return Optional.empty();
            }
            throw new CompletionException(unwrap(e));
        });
    }

    default CompletableFuture<Optional<String>> readStringIfExists(String path) {
        return readIfExists(path).thenApply(o -> o.map(b -> new String(b, StandardCharsets.UTF_8)));
    }

    default CompletableFuture<Boolean> exists(String path) {
        return readIfExists(path).thenApply(Optional::isPresent);
    }

    /** Writes a value, creating missing parents with empty values. */
    default CompletableFuture<Void> write(String path, byte[] value) {
        return checked(path).thenCompose(p -> request(new Request.Write(p, value)));
    }

    default CompletableFuture<Void> write(String path, String value) {
        return write(path, value.getBytes(StandardCharsets.UTF_8));
    }

    default CompletableFuture<Void> mkdir(String path) {
        return checked(path).thenCompose(p -> request(new Request.Mkdir(p)));
    }

    /** Removes a node and everything below it. */
    default CompletableFuture<Void> rm(String path) {
        return checked(path).thenCompose(p -> request(new Request.Rm(p)));
    }

    /**
     * The children's leaf names. A list too long for one reply (the server answers E2BIG) is read
     * in DIRECTORY_PART chunks, restarted if the node changes between chunks, as libxenstore does.
     */
    default CompletableFuture<List<String>> directory(String path) {
        return checked(path).thenCompose(p -> request(new Request.Directory(p))
                .exceptionallyCompose(e -> {
                    Throwable c = unwrap(e);
                    if (c instanceof XenStoreErrorException x && x.code() == ErrorCode.E2BIG) {
                        return directoryInParts(p, 0);
                    }
                    return CompletableFuture.failedFuture(c);
                }));
    }

    /** One DIRECTORY_PART chunk starting at byte {@code offset} of the children list. */
    default CompletableFuture<DirectoryChunk> directoryPart(String path, long offset) {
        return checked(path).thenCompose(p -> request(new Request.DirectoryPart(p, offset)));
    }

    private CompletableFuture<List<String>> directoryInParts(String path, int restarts) {
        List<String> acc = new ArrayList<>();
        return nextPart(path, 0, -1, acc).thenCompose(done -> {
            if (done) {
                return CompletableFuture.completedFuture(List.copyOf(acc));
            }
            if (restarts >= 16) {
                return CompletableFuture.failedFuture(new ProtocolException(
                        "directory of " + path + " kept changing while being read in parts"));
            }
            return directoryInParts(path, restarts + 1);
        });
    }

    /** Completes true when the list is complete, false when the node changed and we must restart. */
    private CompletableFuture<Boolean> nextPart(String path, long offset, long generation, List<String> acc) {
        return request(new Request.DirectoryPart(path, offset)).thenCompose(chunk -> {
            if (generation >= 0 && chunk.generation() != generation) {
                return CompletableFuture.completedFuture(false);
            }
            acc.addAll(chunk.children());
            if (chunk.last()) {
                return CompletableFuture.completedFuture(true);
            }
            if (chunk.children().isEmpty()) {
                return CompletableFuture.failedFuture(new ProtocolException("empty DIRECTORY_PART chunk that is not the last"));
            }
            return nextPart(path, offset + chunk.byteLength(), chunk.generation(), acc);
        });
    }

    default CompletableFuture<Permissions> getPermissions(String path) {
        return checked(path).thenCompose(p -> request(new Request.GetPerms(p)));
    }

    default CompletableFuture<Void> setPermissions(String path, Permissions permissions) {
        return checked(path).thenCompose(p -> request(new Request.SetPerms(p, permissions)));
    }

    private CompletableFuture<String> checked(String path) {
        try {
            return CompletableFuture.completedFuture(Paths.check(path, limits()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The real failure inside the wrappers that future composition adds. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
