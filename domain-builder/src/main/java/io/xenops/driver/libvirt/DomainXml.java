package io.xenops.driver.libvirt;

import io.xenops.driver.DomainSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * The domain XML for one unikernel: direct kernel boot of the ELF with its command line, no disk, no
 * NIC, no firmware, the serial console on a unix socket the driver connects to, and every lifecycle
 * action "destroy" so that a guest that shuts down, resets (the runtime's EXIT on QEMU is a triple
 * fault) or crashes simply ends. The owner tag goes into {@code <metadata>}.
 *
 * @param hypervisor    which libvirt driver the XML is for
 * @param domainType    {@code <domain type>}: kvm or qemu on QEMU hosts, xen, test
 * @param machine       QEMU machine type, or null for libvirt's default
 * @param cpuModel      CPU model, or null for the hypervisor's default
 * @param name          libvirt domain name
 * @param uuid          chosen by the driver, so that the record written before creation names the domain
 * @param consoleSocket where QEMU listens for the console; null when the hypervisor has no socket console
 * @param qemuArgs      extra QEMU arguments ({@code <qemu:commandline>}), QEMU only
 */
record DomainXml(
        Hypervisor hypervisor,
        String domainType,
        String machine,
        String cpuModel,
        String name,
        UUID uuid,
        DomainSpec spec,
        Path consoleSocket,
        OwnerTag owner,
        List<String> qemuArgs) {

    static final String QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";

    DomainXml {
        Objects.requireNonNull(hypervisor, "hypervisor");
        Objects.requireNonNull(domainType, "domainType");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(owner, "owner");
        qemuArgs = List.copyOf(qemuArgs);
        if (hypervisor == Hypervisor.QEMU && consoleSocket == null) {
            throw new IllegalArgumentException("a QEMU domain needs a console socket");
        }
        if (hypervisor != Hypervisor.QEMU && !qemuArgs.isEmpty()) {
            throw new IllegalArgumentException("qemuArgs apply to QEMU hosts only");
        }
    }

    String render() {
        boolean qemuNs = hypervisor == Hypervisor.QEMU && !qemuArgs.isEmpty();
        StringBuilder x = new StringBuilder(1024);
        x.append("<domain type='").append(Xml.escape(domainType)).append('\'');
        if (qemuNs) x.append(" xmlns:qemu='").append(QEMU_NS).append('\'');
        x.append(">\n");
        x.append("  <name>").append(Xml.escape(name)).append("</name>\n");
        x.append("  <uuid>").append(uuid).append("</uuid>\n");
        x.append("  <title>xenops ").append(Xml.escape(spec.image())).append(' ').append(Xml.escape(spec.id())).append("</title>\n");
        x.append("  <metadata>\n    ").append(owner.toXml()).append("\n  </metadata>\n");
        x.append("  <memory unit='MiB'>").append(spec.memoryMiB()).append("</memory>\n");
        x.append("  <vcpu>").append(spec.vcpus()).append("</vcpu>\n");
        x.append("  <os>\n");
        switch (hypervisor) {
            case QEMU -> {
                x.append("    <type arch='x86_64'");
                if (machine != null) x.append(" machine='").append(Xml.escape(machine)).append('\'');
                x.append(">hvm</type>\n");
            }
            // PVH: no device model, no firmware; the unikernel boots from its XEN_ELFNOTE_PHYS32_ENTRY.
            case XEN -> x.append("    <type arch='x86_64' machine='xenpvh'>xenpvh</type>\n");
            case TEST -> x.append("    <type>hvm</type>\n");
        }
        x.append("    <kernel>").append(Xml.escape(spec.kernel().toAbsolutePath().toString())).append("</kernel>\n");
        x.append("    <cmdline>").append(Xml.escape(spec.cmdline())).append("</cmdline>\n");
        x.append("  </os>\n");
        if (cpuModel != null && hypervisor == Hypervisor.QEMU) {
            // check='none': libvirt would otherwise compare the model with the host CPU and refuse models
            // an emulator like kvm-pvm runs fine.
            x.append("  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>")
                    .append(Xml.escape(cpuModel)).append("</model></cpu>\n");
        }
        x.append("  <clock offset='utc'/>\n");
        x.append("  <on_poweroff>destroy</on_poweroff>\n");
        x.append("  <on_reboot>destroy</on_reboot>\n");
        x.append("  <on_crash>destroy</on_crash>\n");
        x.append("  <devices>\n");
        switch (hypervisor) {
            case QEMU -> {
                x.append("    <serial type='unix'>\n");
                x.append("      <source mode='bind' path='").append(Xml.escape(consoleSocket.toString())).append("'/>\n");
                x.append("      <target port='0'/>\n");
                x.append("    </serial>\n");
                // Without these libvirt adds a USB controller and a virtio balloon, which need a PCI bus that
                // microvm does not have ("No PCI buses available"); a unikernel wants neither.
                x.append("    <controller type='usb' model='none'/>\n");
                x.append("    <memballoon model='none'/>\n");
            }
            case XEN -> x.append("    <console type='pty'><target type='xen' port='0'/></console>\n");
            case TEST -> { }
        }
        x.append("  </devices>\n");
        if (qemuNs) {
            x.append("  <qemu:commandline>\n");
            for (String a : qemuArgs) x.append("    <qemu:arg value='").append(Xml.escape(a)).append("'/>\n");
            x.append("  </qemu:commandline>\n");
        }
        x.append("</domain>\n");
        return x.toString();
    }
}
