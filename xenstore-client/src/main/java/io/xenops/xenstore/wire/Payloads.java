package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.ProtocolException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** NUL-separated strings, the building block of every payload. */
public final class Payloads {

    static final byte[] OK = bytes("OK");

    private Payloads() {
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String string(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.UTF_8);
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else {
                return s.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return n;
    }

    /** Each string followed by a NUL, as in {@code <foo>|*}. */
    public static byte[] nulTerminated(List<String> strings) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String s : strings) {
            byte[] b = bytes(s);
            if (indexOf(b, (byte) 0, 0) >= 0) {
                throw new IllegalArgumentException("string contains a NUL byte");
            }
            out.writeBytes(b);
            out.write(0);
        }
        return out.toByteArray();
    }

    public static byte[] nulTerminated(String... strings) {
        return nulTerminated(List.of(strings));
    }

    /**
     * Splits a payload into its NUL-terminated strings. A trailing unterminated piece is kept too,
     * because several servers omit the final NUL on some replies.
     */
    public static List<String> split(byte[] payload) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == 0) {
                out.add(string(payload, start, i));
                start = i + 1;
            }
        }
        if (start < payload.length) {
            out.add(string(payload, start, payload.length));
        }
        return out;
    }

    /** The first string of a payload (up to the first NUL or the end). */
    public static String first(byte[] payload) {
        int i = indexOf(payload, (byte) 0, 0);
        return string(payload, 0, i < 0 ? payload.length : i);
    }

    static int indexOf(byte[] b, byte v, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** Parses an unsigned decimal no bigger than {@code max}; anything else is a protocol error. */
    static long parseUnsigned(String s, long max, String what) {
        if (s.isEmpty() || s.length() > 20) {
            throw new ProtocolException("malformed " + what + ": '" + s + "'");
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                throw new ProtocolException("malformed " + what + ": '" + s + "'");
            }
            v = v * 10 + (c - '0');
            if (v > max) {
                throw new ProtocolException(what + " out of range: '" + s + "'");
            }
        }
        return v;
    }
}
