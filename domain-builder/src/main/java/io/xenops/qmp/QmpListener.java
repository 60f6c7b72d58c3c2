package io.xenops.qmp;

/**
 * Receives what QEMU says unasked. Called on the connection's reader thread: hand off quickly, and
 * never block on a command of the same client from here (its reply arrives on this very thread).
 */
public interface QmpListener {
    void onEvent(QmpMessage.Event event);

    /**
     * The connection ended without {@link QmpClient#close()}: usually QEMU exited.
     *
     * @param cause null for a plain EOF, else the I/O or protocol error that ended the connection
     */
    default void onDisconnect(Throwable cause) {}
}
