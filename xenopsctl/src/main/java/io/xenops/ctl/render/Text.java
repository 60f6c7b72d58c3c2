package io.xenops.ctl.render;

/**
 * Makes daemon- and guest-supplied text safe for a terminal. A guest controls its console and its
 * result; printed raw, an escape sequence could rewrite the operator's screen or title bar.
 */
public final class Text {
    private Text() {
    }

    /** For one table cell or line: every control character, newlines included, becomes visible. */
    public static String cell(String s) {
        return escape(s, false);
    }

    /** For multi-line text: keeps newlines and tabs, drops the CR of CRLF, escapes the rest. */
    public static String lines(String s) {
        return escape(s, true);
    }

    private static String escape(String s, boolean keepLines) {
        if (s == null) {
            return "";
        }
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String replacement = null;
            if (keepLines && (c == '\n' || c == '\t')) {
                replacement = null;
            } else if (keepLines && c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                replacement = "";
            } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                replacement = switch (c) {
                    case '\n' -> "\\n";
                    case '\r' -> "\\r";
                    case '\t' -> "\\t";
                    default -> String.format("\\x%02x", (int) c);
                };
            }
            if (replacement != null) {
                if (out == null) {
                    out = new StringBuilder(s.length() + 16).append(s, 0, i);
                }
                out.append(replacement);
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? s : out.toString();
    }
}
