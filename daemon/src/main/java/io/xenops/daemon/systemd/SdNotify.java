package io.xenops.daemon.systemd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;

/**
 * The daemon's side of systemd's notification protocol ({@code sd_notify(3)}): tells the service manager
 * when the API is up ({@code READY=1}), what it is doing ({@code STATUS=}), that it is stopping
 * ({@code STOPPING=1}), and that it is alive ({@code WATCHDOG=1}).
 *
 * <p>A no-op when {@code $NOTIFY_SOCKET} is unset, so the daemon runs the same way by hand, in tests and
 * under systemd. Sends never block (MSG_DONTWAIT) and never throw: a lost notification must not take the
 * daemon down, so failures are logged and reported as {@code false}.
 */
public final class SdNotify {
    private static final System.Logger LOG = System.getLogger("xenops.systemd");

    private final NotifyAddress address;
    private final Duration watchdogInterval;
    private final UnixDatagramSender sender;

    /** Reads {@code NOTIFY_SOCKET}, {@code WATCHDOG_USEC} and {@code WATCHDOG_PID} from {@code env}. */
    public SdNotify(Map<String, String> env) { this(env, ProcessHandle.current().pid()); }

    SdNotify(Map<String, String> env, long ownPid) {
        String socket = env.get("NOTIFY_SOCKET");
        NotifyAddress parsed = null;
        if (socket != null && !socket.isEmpty()) {
            try {
                parsed = NotifyAddress.parse(socket);
            } catch (IllegalArgumentException e) {
                // Not fatal: the daemon works without a supervisor, and systemd will say that READY never came.
                LOG.log(System.Logger.Level.WARNING, "ignoring NOTIFY_SOCKET: " + e.getMessage());
            }
        }
        address = parsed;
        watchdogInterval = parsed == null ? null : watchdogInterval(env, ownPid);
        sender = parsed == null ? null : new UnixDatagramSender();
    }

    /** Whether there is a service manager to talk to. */
    public boolean enabled() { return address != null; }

    /** The API is up: systemd moves the unit from "activating" to "active". */
    public boolean ready(String status) { return send("READY=1\nSTATUS=" + oneLine(status)); }

    /** Free-form text shown by {@code systemctl status}. */
    public boolean status(String status) { return send("STATUS=" + oneLine(status)); }

    /** Shutdown has begun: systemd shows "deactivating" instead of thinking the service died. */
    public boolean stopping(String status) { return send("STOPPING=1\nSTATUS=" + oneLine(status)); }

    /** Keep-alive for {@code WatchdogSec=}; send it from the thread whose liveness it should prove. */
    public boolean watchdog() { return send("WATCHDOG=1"); }

    /** Asks for more time than {@code TimeoutStartSec=}/{@code TimeoutStopSec=} while a long step runs. */
    public boolean extendTimeout(Duration more) {
        return send("EXTEND_TIMEOUT_USEC=" + Math.max(1, more.toNanos() / 1000));
    }

    /**
     * How often to call {@link #watchdog()}: half of {@code WATCHDOG_USEC}, as sd_watchdog_enabled(3)
     * advises, when the watchdog is on and meant for this process; empty otherwise.
     */
    public Optional<Duration> watchdogInterval() { return Optional.ofNullable(watchdogInterval); }

    /** Where notifications go, if anywhere. */
    public Optional<NotifyAddress> address() { return Optional.ofNullable(address); }

    /** Sends {@code message} (newline-separated {@code KEY=value} assignments) as one datagram. */
    public boolean send(String message) {
        if (address == null) return false;
        try {
            sender.send(address, message.getBytes(StandardCharsets.UTF_8));
            return true;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot notify the service manager at " + address + ": " + e.getMessage());
            return false;
        }
    }

    /** A status is one assignment: a newline in it would start another (e.g. a forged {@code READY=1}). */
    private static String oneLine(String s) { return s.replace('\n', ' ').replace('\r', ' '); }

    private static Duration watchdogInterval(Map<String, String> env, long ownPid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null) return null;
        String pid = env.get("WATCHDOG_PID");
        try {
            // WATCHDOG_PID set for another process means the watchdog is someone else's (e.g. our parent's).
            if (pid != null && Long.parseLong(pid.trim()) != ownPid) return null;
            long us = Long.parseLong(usec.trim());
            if (us <= 0) return null;
            return Duration.of(us, ChronoUnit.MICROS).dividedBy(2);
        } catch (NumberFormatException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring malformed WATCHDOG_USEC/WATCHDOG_PID: " + usec + "/" + pid);
            return null;
        }
    }
}
