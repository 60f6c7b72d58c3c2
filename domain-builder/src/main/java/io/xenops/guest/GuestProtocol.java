package io.xenops.guest;

import java.util.regex.Pattern;

/**
 * The line protocol spoken between the daemon and the xenops unikernel runtime.
 * Specified in docs/guest-protocol.md; the Rust side is unikernel/runtime/src/protocol.rs.
 *
 * <pre>
 * guest: READY &lt;image&gt; &lt;id&gt;        once, at the edge of boot
 * host:  PING &lt;token&gt;                guest: PONG &lt;token&gt;
 * host:  ARGS &lt;token&gt; &lt;payload&gt;      guest: RESULT &lt;token&gt; &lt;text&gt;
 * host:  EXIT &lt;code&gt;                 guest shuts down
 * guest: ERR &lt;text&gt;                  a refused command
 * </pre>
 */
public final class GuestProtocol {
    /** Longest line either side sends, newline excluded; the guest's line buffer is this size. */
    public static final int MAX_LINE = 1024;
    /** Longest ARGS payload: a line minus the keyword, token and separators. */
    public static final int MAX_PAYLOAD = 900;

    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    // Printable ASCII only: the guest console is a byte pipe and a newline would end the line early.
    private static final Pattern PAYLOAD = Pattern.compile("[\\x20-\\x7e]*");

    private GuestProtocol() {}

    static void requireToken(String token) {
        if (token == null || !TOKEN.matcher(token).matches()) {
            throw new IllegalArgumentException("token must match " + TOKEN.pattern() + ": " + token);
        }
    }

    static void requirePayload(String payload) {
        if (payload == null) throw new IllegalArgumentException("payload must not be null");
        if (payload.length() > MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload is " + payload.length() + " characters; the limit is " + MAX_PAYLOAD);
        }
        if (!PAYLOAD.matcher(payload).matches()) {
            throw new IllegalArgumentException("payload must be printable ASCII (0x20..0x7e)");
        }
    }

    /** True when {@code payload} can be sent as ARGS; used to validate API input at the edge. */
    public static boolean isValidPayload(String payload) {
        return payload != null && payload.length() <= MAX_PAYLOAD && PAYLOAD.matcher(payload).matches();
    }

    public static String encode(GuestCommand command) {
        return switch (command) {
            case GuestCommand.Ping p -> "PING " + p.token();
            case GuestCommand.Args a -> a.payload().isEmpty() ? "ARGS " + a.token() : "ARGS " + a.token() + " " + a.payload();
            case GuestCommand.Exit e -> "EXIT " + e.code();
        };
    }

    /** Decodes one console line (without its line ending). Never throws: unknown lines are {@link GuestMessage.Other}. */
    public static GuestMessage decode(String line) {
        String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
        int sp = l.indexOf(' ');
        String head = sp < 0 ? l : l.substring(0, sp);
        String rest = sp < 0 ? "" : l.substring(sp + 1);
        switch (head) {
            case "READY" -> {
                String[] parts = rest.split(" ", -1);
                if (parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty()) {
                    return new GuestMessage.Ready(parts[0], parts[1]);
                }
            }
            case "PONG" -> {
                if (TOKEN.matcher(rest).matches()) return new GuestMessage.Pong(rest);
            }
            case "RESULT" -> {
                int sp2 = rest.indexOf(' ');
                String token = sp2 < 0 ? rest : rest.substring(0, sp2);
                if (TOKEN.matcher(token).matches()) {
                    return new GuestMessage.Result(token, sp2 < 0 ? "" : rest.substring(sp2 + 1));
                }
            }
            case "ERR" -> {
                return new GuestMessage.Error(rest);
            }
            default -> { }
        }
        return new GuestMessage.Other(l);
    }
}
