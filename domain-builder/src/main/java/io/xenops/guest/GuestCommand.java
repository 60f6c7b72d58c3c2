package io.xenops.guest;

/**
 * What the host says to a guest over its control channel (the serial console on QEMU, XenStore on Xen).
 * Each command is one line; tokens let replies be matched to the request that caused them.
 */
public sealed interface GuestCommand {
    /** Liveness probe. The guest answers {@link GuestMessage.Pong} with the same token. */
    record Ping(String token) implements GuestCommand {
        public Ping { GuestProtocol.requireToken(token); }
    }

    /** Hands the application its per-spawn input. The guest answers {@link GuestMessage.Result}. */
    record Args(String token, String payload) implements GuestCommand {
        public Args {
            GuestProtocol.requireToken(token);
            GuestProtocol.requirePayload(payload);
        }
    }

    /** Asks the guest to shut itself down with the given status. */
    record Exit(int code) implements GuestCommand {
        public Exit {
            if (code < 0 || code > 255) throw new IllegalArgumentException("exit code must be 0..255: " + code);
        }
    }
}
