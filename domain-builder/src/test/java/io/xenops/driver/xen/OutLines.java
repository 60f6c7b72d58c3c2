package io.xenops.driver.xen;

import io.xenops.xenstore.client.XenStoreClient;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionException;

/** Waits for the driver's removal of read {@code out/} lines, with a watch rather than by listing. */
final class OutLines {
    private OutLines() {}

    /**
     * Returns once {@code out/<newest - 1>} is gone, or after {@code timeout}: the driver removes read lines in
     * order on one connection, so by then only {@code out/<newest>} should be left. The caller asserts that.
     */
    static void awaitOnlyNewest(XenStoreClient xs, String out, int newest, Duration timeout) {
        if (newest <= 0) return;
        try {
            xs.waitUntil(out + "/" + (newest - 1), Optional::isEmpty, timeout).join();
        } catch (CompletionException e) {
            // timed out: the caller's assertion on the directory says what is left
        }
    }
}
