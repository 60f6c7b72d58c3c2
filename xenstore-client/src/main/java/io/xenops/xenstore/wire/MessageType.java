package io.xenops.xenstore.wire;

import java.util.Optional;

/**
 * Message types of xs_wire.h's {@code enum xsd_sockmsg_type}, with their wire codes. Code 20 was
 * XS_RESTRICT, which was removed from Xen and is invalid; it is deliberately absent.
 */
public enum MessageType {
    CONTROL(0),
    DIRECTORY(1),
    READ(2),
    GET_PERMS(3),
    WATCH(4),
    UNWATCH(5),
    TRANSACTION_START(6),
    TRANSACTION_END(7),
    INTRODUCE(8),
    RELEASE(9),
    GET_DOMAIN_PATH(10),
    WRITE(11),
    MKDIR(12),
    RM(13),
    SET_PERMS(14),
    WATCH_EVENT(15),
    ERROR(16),
    IS_DOMAIN_INTRODUCED(17),
    RESUME(18),
    SET_TARGET(19),
    RESET_WATCHES(21),
    DIRECTORY_PART(22),
    GET_FEATURE(23),
    SET_FEATURE(24),
    GET_QUOTA(25),
    SET_QUOTA(26);

    /** XS_INVALID: guaranteed never to be a valid type. */
    public static final int INVALID_CODE = 0xffff;

    private static final MessageType[] BY_CODE = new MessageType[27];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type for a wire code, or empty for codes no Xen version defines. */
    public static Optional<MessageType> of(int code) {
        return code >= 0 && code < BY_CODE.length ? Optional.ofNullable(BY_CODE[code]) : Optional.empty();
    }
}
