package io.xenops.xenstore.error;

/** ENOENT: The node (or its parent) does not exist. */
public final class NoSuchNodeException extends XenStoreErrorException {
    NoSuchNodeException(String wireName, String context) {
        super(ErrorCode.ENOENT, wireName, context);
    }
}
