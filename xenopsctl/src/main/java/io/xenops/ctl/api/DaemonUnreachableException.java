package io.xenops.ctl.api;

import java.net.URI;

/** No usable answer came back from the daemon: nothing listens, the host is unknown, or it hung. */
public final class DaemonUnreachableException extends RuntimeException {

    private DaemonUnreachableException(String message, Throwable cause) {
        super(message, cause);
    }

    public static DaemonUnreachableException cannotConnect(URI base, String reason, Throwable cause) {
        return new DaemonUnreachableException("cannot reach xenopsd at " + base + " (" + reason
                + "). Is it running? Start it with ./xenops run", cause);
    }

    public static DaemonUnreachableException noAnswer(URI base, long timeoutMillis, Throwable cause) {
        return new DaemonUnreachableException("xenopsd at " + base + " did not answer within "
                + timeoutMillis + " ms", cause);
    }

    public static DaemonUnreachableException broken(URI base, String reason, Throwable cause) {
        return new DaemonUnreachableException("lost the connection to xenopsd at " + base + " ("
                + reason + ")", cause);
    }
}
