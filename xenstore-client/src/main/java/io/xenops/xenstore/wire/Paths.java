package io.xenops.xenstore.wire;

import io.xenops.xenstore.error.InvalidRequestException;

/**
 * Path syntax of docs/misc/xenstore.txt: '/'-separated, absolute paths start with '/', characters
 * limited to ASCII alphanumerics and {@code -/_@}, no doubled or trailing slash (except the root),
 * not empty, and no longer than the limits. Special watch paths start with '@'.
 */
public final class Paths {

    private Paths() {
    }

    /** True for the characters xenstored accepts in a node name. */
    public static boolean validChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '/' || c == '_' || c == '@';
    }

    /** The reason a node path is invalid, or null when it is valid. Relative paths are allowed. */
    public static String problem(String path, Limits limits) {
        if (path == null || path.isEmpty()) {
            return "empty path";
        }
        boolean absolute = path.charAt(0) == '/';
        int max = absolute ? limits.maxAbsolutePath() : limits.maxRelativePath();
        if (path.length() > max) {
            return "path of " + path.length() + " characters is over the limit of " + max;
        }
        if (path.equals("/")) {
            return null;
        }
        if (path.endsWith("/")) {
            return "trailing slash";
        }
        if (path.contains("//")) {
            return "doubled slash";
        }
        for (int i = 0; i < path.length(); i++) {
            if (!validChar(path.charAt(i))) {
                return "invalid character " + describe(path.charAt(i)) + " at index " + i;
            }
        }
        return null;
    }

    /** Checks a node path, throwing with the reason when it is not one xenstored would accept. */
    public static String check(String path, Limits limits) {
        String p = problem(path, limits);
        if (p != null) {
            throw new InvalidRequestException("invalid XenStore path '" + shorten(path) + "': " + p);
        }
        return path;
    }

    /** Like {@link #check} but also accepts special watch paths such as {@code @releaseDomain}. */
    public static String checkWatchPath(String path, Limits limits) {
        if (path != null && path.startsWith("@")) {
            if (path.length() > limits.maxAbsolutePath()) {
                throw new InvalidRequestException("special watch path too long");
            }
            return path;
        }
        return check(path, limits);
    }

    public static boolean isSpecial(String path) {
        return path.startsWith("@");
    }

    /**
     * True if {@code child} is {@code parent} or below it, by the rules of docs/misc/xenstore.txt
     * (everything is a child of "/").
     */
    public static boolean isChildOf(String child, String parent) {
        if (parent.equals("/")) {
            return child.startsWith("/");
        }
        return child.equals(parent) || (child.startsWith(parent) && child.charAt(parent.length()) == '/');
    }

    /** The parent of an absolute path; the root's parent is the root. */
    public static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    /** The last component of an absolute path. */
    public static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** Joins a parent path and a child name. */
    public static String join(String parent, String name) {
        return parent.equals("/") ? "/" + name : parent + "/" + name;
    }

    private static String describe(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private static String shorten(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
