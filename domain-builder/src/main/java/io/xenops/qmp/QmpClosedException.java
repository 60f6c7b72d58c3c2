package io.xenops.qmp;

import java.io.IOException;

/**
 * The connection closed before a command was answered (QEMU exited, the socket broke, or the client
 * was closed). The command may or may not have taken effect.
 */
public class QmpClosedException extends IOException {
    public QmpClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
