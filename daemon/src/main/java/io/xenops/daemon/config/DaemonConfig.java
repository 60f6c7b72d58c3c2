package io.xenops.daemon.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the daemon is told at start. Validated once, in {@link ConfigLoader}; the rest of the daemon
 * trusts it.
 *
 * @param listenHost      address of the HTTP API (loopback by default: the API is unauthenticated until tokens exist)
 * @param listenPort      0 picks a free port (tests); the chosen one is written to {@code <stateDir>/xenopsd.port}
 * @param stateDir        what the daemon owns and how to reach it; survives restarts
 * @param imageDirs       directories of bundled images imported at start
 * @param driver          qemu | sim | auto
 * @param accel           auto | kvm | tcg (QEMU only)
 * @param poolTargets     per-image target sizes at start; {@code *} applies to every image not named
 * @param maxVms          every VM the daemon holds (pooled, building, running) counts; past it spawns get 503
 * @param coldSpawn       whether a spawn that finds the pool empty builds a VM (else 503)
 * @param buildConcurrency how many pool members are built at once
 * @param bootTimeout     how long a VM may take from unpause to READY
 * @param readyTimeout    default wait for a guest's answer after resume (a request may set its own)
 * @param tokensFile      bearer tokens for the TCP listener, or null for an open API (loopback only)
 * @param unixSocket      an extra listener on a unix socket, guarded by its file permissions, or null
 * @param webhookSecretFile HMAC key for signing webhook deliveries, or null for unsigned
 * @param libvirtUri      the libvirt connection for driver=libvirt (qemu:///system, xen:///system, ...)
 * @param hostMemoryReserveMiB host memory (MemAvailable) a new VM must leave free; below it new builds are
 *                        refused (503), pools shed paused VMs, and both resume when memory returns; 0 turns it off
 * @param fault           fault-injection steps for crash tests ({@code STEP:kill,...}, see FaultPoints); blank in production
 */
public record DaemonConfig(String listenHost, int listenPort, Path stateDir, List<Path> imageDirs, String driver,
                           String accel, String qemuBinary, Map<String, Integer> poolTargets, int maxVms,
                           boolean coldSpawn, int buildConcurrency, Duration bootTimeout, Duration readyTimeout,
                           int maxBodyBytes, Path tokensFile, Path unixSocket,
                           Path webhookSecretFile, String libvirtUri, long hostMemoryReserveMiB, String fault) {
    public static final long DEFAULT_HOST_MEMORY_RESERVE_MIB = 256;

    public DaemonConfig {
        if (hostMemoryReserveMiB < 0) throw new IllegalArgumentException("hostMemoryReserveMiB must not be negative");
        fault = fault == null ? "" : fault;
        Objects.requireNonNull(listenHost);
        Objects.requireNonNull(stateDir);
        imageDirs = List.copyOf(imageDirs);
        poolTargets = Map.copyOf(poolTargets);
    }

    /** The configuration before the host-memory reserve and the fault seam existed: their defaults. */
    public DaemonConfig(String listenHost, int listenPort, Path stateDir, List<Path> imageDirs, String driver,
                        String accel, String qemuBinary, Map<String, Integer> poolTargets, int maxVms,
                        boolean coldSpawn, int buildConcurrency, Duration bootTimeout, Duration readyTimeout,
                        int maxBodyBytes, Path tokensFile, Path unixSocket,
                        Path webhookSecretFile, String libvirtUri) {
        this(listenHost, listenPort, stateDir, imageDirs, driver, accel, qemuBinary, poolTargets, maxVms, coldSpawn,
                buildConcurrency, bootTimeout, readyTimeout, maxBodyBytes, tokensFile, unixSocket, webhookSecretFile,
                libvirtUri, DEFAULT_HOST_MEMORY_RESERVE_MIB, "");
    }

    public int poolTargetFor(String image) {
        Integer t = poolTargets.get(image);
        if (t == null) t = poolTargets.get("*");
        return t == null ? 0 : t;
    }
}
