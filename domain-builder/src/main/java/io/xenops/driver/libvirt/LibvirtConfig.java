package io.xenops.driver.libvirt;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How the libvirt driver reaches its hypervisor and builds domains. Build one with
 * {@link #defaults(String, Path)} and the {@code with*} methods.
 *
 * @param uri              libvirt connection URI: {@code qemu:///system}, {@code xen:///system},
 *                         {@code test:///default}, or a remote URI such as {@code qemu+ssh://host/system}
 * @param stateDir         the driver's state; domain records live in {@code <stateDir>/domains/<id>/}. It is
 *                         also written into every domain's metadata, so two daemons with different state
 *                         directories on one libvirt host never touch each other's domains.
 * @param virtType         {@code <domain type>} for QEMU hosts; {@link VirtType#AUTO} takes KVM when libvirt
 *                         reports it for x86_64, else TCG
 * @param machine          QEMU machine type; {@code microvm} avoids SeaBIOS (seconds) and PCI. When the host's
 *                         QEMU lacks it, the driver falls back to libvirt's default machine.
 * @param cpuModel         a CPU model to ask for ({@code <cpu mode='custom'>}), or null for the hypervisor's
 *                         default
 * @param namePrefix       libvirt domain names are {@code namePrefix + id}; ownership is proven by metadata,
 *                         never by the name
 * @param qemuArgs         extra QEMU arguments passed through libvirt's {@code <qemu:commandline>} (libvirt marks
 *                         such domains "tainted: custom-argv"), e.g. {@code -machine pit=off,pic=off}
 * @param consoleTailBytes bytes of console output kept per domain for {@code console(id)}
 * @param workers          platform threads that make libvirt's blocking calls (JNA calls would pin virtual
 *                         threads to their carriers, so these are platform threads)
 * @param createTimeout    bound on {@code create}; a create that finishes after it is destroyed
 * @param callTimeout      bound on every other libvirt call as the caller sees it
 * @param reconnectDelay   pause between attempts to reopen a lost connection to libvirt
 * @param keepAliveSeconds libvirt keepalive interval for remote URIs (0 disables); a dead peer is noticed after
 *                         about 3 intervals
 */
public record LibvirtConfig(
        String uri,
        Path stateDir,
        VirtType virtType,
        String machine,
        String cpuModel,
        String namePrefix,
        List<String> qemuArgs,
        int consoleTailBytes,
        int workers,
        Duration createTimeout,
        Duration callTimeout,
        Duration reconnectDelay,
        int keepAliveSeconds) {

    /** Which QEMU accelerator libvirt is asked for. Ignored on Xen and test hosts. */
    public enum VirtType { AUTO, KVM, QEMU }

    public LibvirtConfig {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(virtType, "virtType");
        Objects.requireNonNull(namePrefix, "namePrefix");
        Objects.requireNonNull(createTimeout, "createTimeout");
        Objects.requireNonNull(callTimeout, "callTimeout");
        Objects.requireNonNull(reconnectDelay, "reconnectDelay");
        if (uri.isBlank()) throw new IllegalArgumentException("uri must not be blank");
        // Absolute and normalized: it is compared, as a string, with the metadata of existing domains.
        stateDir = stateDir.toAbsolutePath().normalize();
        qemuArgs = List.copyOf(qemuArgs);
        if (machine != null && machine.isBlank()) machine = null;
        if (cpuModel != null && cpuModel.isBlank()) cpuModel = null;
        if (!namePrefix.matches("[A-Za-z0-9_.-]{0,32}")) {
            throw new IllegalArgumentException("namePrefix must match [A-Za-z0-9_.-]{0,32}: " + namePrefix);
        }
        if (consoleTailBytes < 1024) throw new IllegalArgumentException("consoleTailBytes must be at least 1024");
        if (workers < 1) throw new IllegalArgumentException("workers must be positive");
        if (keepAliveSeconds < 0) throw new IllegalArgumentException("keepAliveSeconds must not be negative");
    }

    public static LibvirtConfig defaults(String uri, Path stateDir) {
        return new LibvirtConfig(uri, stateDir, VirtType.AUTO, "microvm", null, "xenops-", List.of(), 64 * 1024, 4,
                Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(1), 5);
    }

    public LibvirtConfig withVirtType(VirtType v) {
        return new LibvirtConfig(uri, stateDir, v, machine, cpuModel, namePrefix, qemuArgs, consoleTailBytes, workers,
                createTimeout, callTimeout, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withMachine(String v) {
        return new LibvirtConfig(uri, stateDir, virtType, v, cpuModel, namePrefix, qemuArgs, consoleTailBytes, workers,
                createTimeout, callTimeout, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withCpuModel(String v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, v, namePrefix, qemuArgs, consoleTailBytes, workers,
                createTimeout, callTimeout, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withNamePrefix(String v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, cpuModel, v, qemuArgs, consoleTailBytes, workers,
                createTimeout, callTimeout, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withQemuArgs(List<String> v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, cpuModel, namePrefix, v, consoleTailBytes, workers,
                createTimeout, callTimeout, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withConsoleTailBytes(int v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, cpuModel, namePrefix, qemuArgs, v, workers,
                createTimeout, callTimeout, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withWorkers(int v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, cpuModel, namePrefix, qemuArgs, consoleTailBytes, v,
                createTimeout, callTimeout, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withCreateTimeout(Duration v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, cpuModel, namePrefix, qemuArgs, consoleTailBytes, workers,
                v, callTimeout, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withCallTimeout(Duration v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, cpuModel, namePrefix, qemuArgs, consoleTailBytes, workers,
                createTimeout, v, reconnectDelay, keepAliveSeconds);
    }

    public LibvirtConfig withReconnectDelay(Duration v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, cpuModel, namePrefix, qemuArgs, consoleTailBytes, workers,
                createTimeout, callTimeout, v, keepAliveSeconds);
    }

    public LibvirtConfig withKeepAliveSeconds(int v) {
        return new LibvirtConfig(uri, stateDir, virtType, machine, cpuModel, namePrefix, qemuArgs, consoleTailBytes, workers,
                createTimeout, callTimeout, reconnectDelay, v);
    }

    /** Where domain directories live. */
    public Path domainsDir() {
        return stateDir.resolve("domains");
    }
}
