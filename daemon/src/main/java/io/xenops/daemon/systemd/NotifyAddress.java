package io.xenops.daemon.systemd;

import java.nio.charset.StandardCharsets;

/**
 * Where {@code $NOTIFY_SOCKET} points: a filesystem path or, when it starts with {@code @}, a name in the
 * Linux abstract socket namespace. Validated here so a bad value is reported once, at start, instead of
 * becoming a truncated address at send time.
 *
 * @param name       the path, or the abstract name without its leading {@code @}
 * @param isAbstract whether {@code name} lives in the abstract namespace
 */
public record NotifyAddress(String name, boolean isAbstract) {
    /** {@code sizeof(((struct sockaddr_un *) 0)->sun_path)} on Linux. */
    static final int SUN_PATH_MAX = 108;

    public NotifyAddress {
        if (name.isEmpty()) throw new IllegalArgumentException("NOTIFY_SOCKET names no socket");
        if (name.indexOf('\0') >= 0) throw new IllegalArgumentException("NOTIFY_SOCKET contains a NUL byte");
        if (!isAbstract && !name.startsWith("/")) {
            throw new IllegalArgumentException("NOTIFY_SOCKET must be an absolute path or @name, got '" + name + "'");
        }
        // Either way one byte of sun_path goes to a NUL: the terminator of a path, the marker of an abstract name.
        if (name.getBytes(StandardCharsets.UTF_8).length > SUN_PATH_MAX - 1) {
            throw new IllegalArgumentException("NOTIFY_SOCKET is longer than a unix socket address allows: " + name);
        }
    }

    /** Parses the environment's spelling: {@code /run/systemd/notify} or {@code @name}. */
    public static NotifyAddress parse(String value) {
        return value.startsWith("@") ? new NotifyAddress(value.substring(1), true) : new NotifyAddress(value, false);
    }

    /**
     * The bytes of {@code sun_path} the kernel should see: a path and its NUL; or a leading NUL and the
     * abstract name with no terminator (the address length says where it ends, and a trailing NUL would
     * become part of the name).
     */
    byte[] sunPath() {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[n.length + 1];
        System.arraycopy(n, 0, out, isAbstract ? 1 : 0, n.length);
        return out;
    }

    @Override
    public String toString() { return isAbstract ? "@" + name : name; }
}
