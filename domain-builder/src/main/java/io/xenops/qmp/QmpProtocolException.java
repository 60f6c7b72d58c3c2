package io.xenops.qmp;

import java.io.IOException;

/**
 * The peer sent something that is not QMP: bytes that are not JSON, JSON of an unknown shape, or a
 * line longer than the decoder accepts. The connection cannot be trusted after this and is closed.
 */
public class QmpProtocolException extends IOException {
    public QmpProtocolException(String message) {
        super(message);
    }

    public QmpProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
