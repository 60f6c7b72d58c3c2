package io.xenops.driver.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xenops.driver.DomainSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

class DomainXmlTest {
    private static final UUID UUID_1 = UUID.fromString("0f6c1f3e-51b2-4f43-9d0e-7c1d2b3a4f55");
    private static final DomainSpec SPEC = new DomainSpec("vm-0123456789ab", "hello", Path.of("/images/hello/kernel.elf"), 4, 1,
            "xenops.id=vm-0123456789ab app=<x&y> q='1' d=\"2\"");
    private static final OwnerTag TAG = new OwnerTag("vm-0123456789ab", "hello", "/var/lib/xenops");

    private static String xpath(Document doc, String expr) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate(expr, doc);
    }

    private static int count(Document doc, String expr) throws Exception {
        return ((NodeList) XPathFactory.newInstance().newXPath().evaluate(expr, doc, XPathConstants.NODESET)).getLength();
    }

    @Test
    void qemuDomainBootsTheKernelDirectlyOnMicrovmWithOnlyASerialConsole() throws Exception {
        String xml = new DomainXml(Hypervisor.QEMU, "kvm", "microvm", null, "xenops-vm-0123456789ab", UUID_1, SPEC,
                Path.of("/state/domains/vm-0123456789ab/console.sock"), TAG, List.of()).render();
        Document doc = Xml.parse(xml);

        assertThat(xpath(doc, "/domain/@type")).isEqualTo("kvm");
        assertThat(xpath(doc, "/domain/name")).isEqualTo("xenops-vm-0123456789ab");
        assertThat(xpath(doc, "/domain/uuid")).isEqualTo(UUID_1.toString());
        assertThat(xpath(doc, "/domain/memory")).isEqualTo("4");
        assertThat(xpath(doc, "/domain/memory/@unit")).isEqualTo("MiB");
        assertThat(xpath(doc, "/domain/os/type/@machine")).isEqualTo("microvm");
        assertThat(xpath(doc, "/domain/os/type")).isEqualTo("hvm");
        assertThat(xpath(doc, "/domain/os/kernel")).isEqualTo("/images/hello/kernel.elf");
        // The command line survives escaping exactly.
        assertThat(xpath(doc, "/domain/os/cmdline")).isEqualTo(SPEC.cmdline());
        assertThat(xpath(doc, "/domain/on_reboot")).isEqualTo("destroy");
        assertThat(xpath(doc, "/domain/on_poweroff")).isEqualTo("destroy");
        assertThat(xpath(doc, "/domain/on_crash")).isEqualTo("destroy");
        assertThat(xpath(doc, "/domain/devices/serial/@type")).isEqualTo("unix");
        assertThat(xpath(doc, "/domain/devices/serial/source/@mode")).isEqualTo("bind");
        assertThat(xpath(doc, "/domain/devices/serial/source/@path")).isEqualTo("/state/domains/vm-0123456789ab/console.sock");
        assertThat(count(doc, "/domain/devices/disk")).isZero();
        assertThat(count(doc, "/domain/devices/interface")).isZero();
        assertThat(xpath(doc, "/domain/devices/controller[@type='usb']/@model")).isEqualTo("none");
        assertThat(xpath(doc, "/domain/devices/memballoon/@model")).isEqualTo("none");
        assertThat(count(doc, "/domain/cpu")).isZero();
    }

    @Test
    void metadataCarriesTheOwnerTagInTheXenopsNamespace() throws Exception {
        String xml = new DomainXml(Hypervisor.QEMU, "qemu", null, null, "n", UUID_1, SPEC, Path.of("/s.sock"), TAG, List.of()).render();
        Document doc = Xml.parse(xml);
        var owner = doc.getElementsByTagNameNS(OwnerTag.NAMESPACE, OwnerTag.ELEMENT);
        assertThat(owner.getLength()).isEqualTo(1);
        var e = (org.w3c.dom.Element) owner.item(0);
        assertThat(e.getParentNode().getNodeName()).isEqualTo("metadata");
        assertThat(e.getAttribute("id")).isEqualTo("vm-0123456789ab");
        assertThat(e.getAttribute("state-dir")).isEqualTo("/var/lib/xenops");
        // No machine asked for: libvirt picks its default.
        assertThat(xpath(doc, "/domain/os/type/@machine")).isEmpty();
    }

    @Test
    void cpuModelAndQemuArgumentsAreOptIn() throws Exception {
        String xml = new DomainXml(Hypervisor.QEMU, "kvm", "microvm", "qemu64", "n", UUID_1, SPEC, Path.of("/s.sock"), TAG,
                List.of("-machine", "pit=off,pic=off")).render();
        Document doc = Xml.parse(xml);
        assertThat(xpath(doc, "/domain/cpu/@check")).isEqualTo("none");
        assertThat(xpath(doc, "/domain/cpu/model")).isEqualTo("qemu64");
        NodeList args = doc.getElementsByTagNameNS(DomainXml.QEMU_NS, "arg");
        assertThat(args.getLength()).isEqualTo(2);
        assertThat(((org.w3c.dom.Element) args.item(1)).getAttribute("value")).isEqualTo("pit=off,pic=off");
    }

    @Test
    void xenDomainsArePvhWithTheXenConsole() throws Exception {
        Document doc = Xml.parse(new DomainXml(Hypervisor.XEN, "xen", null, null, "n", UUID_1, SPEC, null, TAG, List.of()).render());
        assertThat(xpath(doc, "/domain/@type")).isEqualTo("xen");
        assertThat(xpath(doc, "/domain/os/type")).isEqualTo("xenpvh");
        assertThat(xpath(doc, "/domain/devices/console/target/@type")).isEqualTo("xen");
        assertThat(count(doc, "/domain/devices/serial")).isZero();
    }

    @Test
    void refusesWhatLibvirtWouldRejectLessClearly() {
        DomainSpec bad = new DomainSpec("vm-1", "hello", Path.of("/k"), 4, 1, "a=\u0001");
        assertThatThrownBy(() -> new DomainXml(Hypervisor.TEST, "test", null, null, "n", UUID_1, bad, null, TAG, List.of()).render())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x1");
        assertThatThrownBy(() -> new DomainXml(Hypervisor.QEMU, "kvm", null, null, "n", UUID_1, SPEC, null, TAG, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("console socket");
        assertThatThrownBy(() -> new DomainXml(Hypervisor.TEST, "test", null, null, "n", UUID_1, SPEC, null, TAG, List.of("-x")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
