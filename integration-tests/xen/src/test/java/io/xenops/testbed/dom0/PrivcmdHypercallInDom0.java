package io.xenops.testbed.dom0;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs inside dom0: real hypercalls from Java 25 through /dev/xen/privcmd with FFM. */
@Timeout(60)
class PrivcmdHypercallInDom0 {

    static final int HYPERVISOR_XEN_VERSION = 17;
    static final int XENVER_VERSION = 0;
    static final int XENVER_EXTRAVERSION = 1;
    static final int XENVER_CAPABILITIES = 3;
    static final int ENOSYS = 38;

    private Privcmd privcmd;

    @BeforeEach
    void open() throws Exception {
        privcmd = new Privcmd("/dev/xen/privcmd");
    }

    @AfterEach
    void close() {
        privcmd.close();
    }

    @Test
    void thisIsTheControlDomain() throws Exception {
        assertThat(Files.readString(Path.of("/proc/xen/capabilities"))).contains("control_d");
    }

    @Test
    void xenVersionIs417() throws Exception {
        long v = privcmd.hypercall(HYPERVISOR_XEN_VERSION, XENVER_VERSION, 0);
        assertThat(v >> 16).as("major of 0x%x", v).isEqualTo(4);
        assertThat(v & 0xffff).as("minor of 0x%x", v).isEqualTo(17);
    }

    @Test
    void extraversionAndCapabilitiesAgreeWithXl() throws Exception {
        MemorySegment extra = privcmd.arena().allocate(16);
        assertThat(privcmd.hypercall(HYPERVISOR_XEN_VERSION, XENVER_EXTRAVERSION, extra.address())).isZero();
        String extraversion = extra.getString(0, StandardCharsets.US_ASCII);
        MemorySegment caps = privcmd.arena().allocate(1024);
        assertThat(privcmd.hypercall(HYPERVISOR_XEN_VERSION, XENVER_CAPABILITIES, caps.address())).isZero();
        assertThat(caps.getString(0, StandardCharsets.US_ASCII)).contains("xen-3.0-x86_64");

        // xl asks the same hypervisor through libxc: both views must match.
        Process xl = new ProcessBuilder("xl", "info").redirectErrorStream(true).start();
        String out = new String(xl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(xl.waitFor()).as("xl info: %s", out).isZero();
        Map<String, String> info = out.lines().filter(l -> l.contains(":"))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf(':')).strip(), l -> l.substring(l.indexOf(':') + 1).strip(),
                        (a, b) -> a));
        assertThat(info).containsEntry("xen_major", "4").containsEntry("xen_minor", "17")
                .containsEntry("xen_extra", extraversion);
    }

    @Test
    void unknownHypercallIsEnosys() {
        // 60 is no hypercall in Xen 4.17's table: Xen answers -ENOSYS, which privcmd passes on as errno.
        assertThatThrownBy(() -> privcmd.hypercall(60))
                .isInstanceOfSatisfying(Privcmd.ErrnoException.class, e -> assertThat(e.errno).isEqualTo(ENOSYS));
    }
}
