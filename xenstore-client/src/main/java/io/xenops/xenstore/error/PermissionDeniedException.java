package io.xenops.xenstore.error;

/** EACCES: The connection's domain lacks the permission the request needs. */
public final class PermissionDeniedException extends XenStoreErrorException {
    PermissionDeniedException(String wireName, String context) {
        super(ErrorCode.EACCES, wireName, context);
    }
}
