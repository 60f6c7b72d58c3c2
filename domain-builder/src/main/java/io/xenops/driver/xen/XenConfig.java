package io.xenops.driver.xen;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything {@link XenDriver} needs to know about the host.
 *
 * @param stateDir        domains live in {@code <stateDir>/domains/<id>/}
 * @param xl              the {@code xl} binary (building and destroying only; never on the request path)
 * @param xenstoreSocket  xenstored's unix socket
 * @param privcmd         {@code /dev/xen/privcmd}
 * @param hypercallDevice {@code /dev/xen/hypercall} (buffer pages; an anonymous locked page if missing)
 * @param consoleLogDir   where xenconsoled {@code --log=guest} writes {@code guest-<name>.log}; destroy removes ours
 * @param type            what to build
 * @param channel         which channel new domains speak the line protocol on (adopted ones keep theirs)
 * @param createTimeout   bound on {@code xl create -p} plus the console appearing
 * @param destroyTimeout  bound on {@code xl destroy}
 * @param consoleTailBytes per-domain console ring behind {@code console(id)}
 * @param crashDetailWait  how long a crash seen through {@code @releaseDomain} waits for the guest's PANIC line
 *                         to come through the console before Xen's reason stands in for it
 */
public record XenConfig(Path stateDir, Path xl, Path xenstoreSocket, Path privcmd, Path hypercallDevice,
                        Path consoleLogDir, DomainType type, GuestChannel channel, Duration createTimeout,
                        Duration destroyTimeout, int consoleTailBytes, Duration crashDetailWait) {

    /** PVH needs hardware virtualisation (HAP); PV runs anywhere Xen does. */
    public enum DomainType { PVH, PV, PVH_THEN_PV }

    /**
     * Where the line protocol runs, chosen per domain at create time and written to
     * {@code <domain>/xenops/channel} before the guest's first instruction; the runtime reads it at boot
     * and uses that channel alone. XENSTORE (the default): {@code xenops/in/<n>} and {@code xenops/out/<n>},
     * both waited on with watches. CONSOLE: lines on xenconsoled's pty. See docs/xen-driver.md.
     */
    public enum GuestChannel {
        CONSOLE, XENSTORE;

        /** The value of {@code xenops/channel}. */
        String node() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** What a {@code xenops/channel} value names; a domain without the node speaks on its console. */
        static GuestChannel ofNode(java.util.Optional<String> value) {
            return value.filter("xenstore"::equals).map(v -> XENSTORE).orElse(CONSOLE);
        }
    }

    public XenConfig {
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(xl, "xl");
        Objects.requireNonNull(xenstoreSocket, "xenstoreSocket");
        Objects.requireNonNull(privcmd, "privcmd");
        Objects.requireNonNull(hypercallDevice, "hypercallDevice");
        Objects.requireNonNull(consoleLogDir, "consoleLogDir");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(createTimeout, "createTimeout");
        Objects.requireNonNull(destroyTimeout, "destroyTimeout");
        Objects.requireNonNull(crashDetailWait, "crashDetailWait");
        if (consoleTailBytes < 1024) throw new IllegalArgumentException("consoleTailBytes must be at least 1024");
    }

    /** Debian's paths; createTimeout is generous because nested Xen under TCG builds in 1 to 2 s. */
    public static XenConfig defaults(Path stateDir) {
        return new XenConfig(stateDir, Path.of("xl"), Path.of("/run/xenstored/socket"), Path.of("/dev/xen/privcmd"),
                Path.of("/dev/xen/hypercall"), Path.of("/var/log/xen/console"), DomainType.PVH_THEN_PV,
                GuestChannel.XENSTORE, Duration.ofSeconds(30), Duration.ofSeconds(30), 64 * 1024, Duration.ofSeconds(2));
    }

    public XenConfig withType(DomainType t) {
        return new XenConfig(stateDir, xl, xenstoreSocket, privcmd, hypercallDevice, consoleLogDir, t, channel,
                createTimeout, destroyTimeout, consoleTailBytes, crashDetailWait);
    }

    public XenConfig withChannel(GuestChannel c) {
        return new XenConfig(stateDir, xl, xenstoreSocket, privcmd, hypercallDevice, consoleLogDir, type, c,
                createTimeout, destroyTimeout, consoleTailBytes, crashDetailWait);
    }

    public XenConfig withConsoleLogDir(Path dir) {
        return new XenConfig(stateDir, xl, xenstoreSocket, privcmd, hypercallDevice, dir, type, channel,
                createTimeout, destroyTimeout, consoleTailBytes, crashDetailWait);
    }

    public XenConfig withCreateTimeout(Duration d) {
        return new XenConfig(stateDir, xl, xenstoreSocket, privcmd, hypercallDevice, consoleLogDir, type, channel,
                d, destroyTimeout, consoleTailBytes, crashDetailWait);
    }

    public XenConfig withCrashDetailWait(Duration d) {
        return new XenConfig(stateDir, xl, xenstoreSocket, privcmd, hypercallDevice, consoleLogDir, type, channel,
                createTimeout, destroyTimeout, consoleTailBytes, d);
    }
}
