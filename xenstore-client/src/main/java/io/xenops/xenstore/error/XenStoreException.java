package io.xenops.xenstore.error;

/**
 * Root of every failure this library reports. Unchecked because most calls complete futures, where
 * checked exceptions only get wrapped again.
 */
public abstract sealed class XenStoreException extends RuntimeException
        permits XenStoreErrorException, ProtocolException, ConnectionClosedException, InvalidRequestException,
        RequestTimeoutException {

    protected XenStoreException(String message) {
        super(message);
    }

    protected XenStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
