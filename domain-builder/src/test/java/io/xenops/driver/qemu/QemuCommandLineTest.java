package io.xenops.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xenops.driver.DomainSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuCommandLineTest {
    private final DomainSpec spec = new DomainSpec("vm-1", "hello", Path.of("/images/hello/kernel.elf"), 8, 1, "xenops.id=vm-1 quiet");
    private final Path dir = Path.of("/var/lib/xenops/domains/vm-1");

    @Test
    void buildsTheDocumentedCommandLine() {
        List<String> a = QemuCommandLine.build("qemu-system-x86_64", QemuConfig.DEFAULT_MACHINE,
                new AccelChoice("kvm", "host", "test"), spec, dir, true, List.of("-device", "isa-debug-exit"));
        assertThat(String.join(" ", a)).isEqualTo("qemu-system-x86_64 -name xenops:vm-1"
                + " -M microvm,acpi=off,pit=off,pic=off,rtc=off,x-option-roms=off,memory-backend=ram"
                + " -object memory-backend-memfd,id=ram,size=8M -no-reboot -S -nodefaults -nographic"
                + " -nic none -m 8 -smp 1 -accel kvm -cpu host -kernel /images/hello/kernel.elf -append xenops.id=vm-1 quiet"
                + " -chardev socket,id=con,path=/var/lib/xenops/domains/vm-1/console.sock,server=on,wait=off,"
                + "logfile=/var/lib/xenops/domains/vm-1/console.log -serial chardev:con"
                + " -qmp unix:/var/lib/xenops/domains/vm-1/qmp.sock,server=on,wait=off"
                + " -pidfile /var/lib/xenops/domains/vm-1/qemu.pid -device isa-debug-exit");
        // -append is one argument, whatever spaces the command line holds
        assertThat(a.get(a.indexOf("-append") + 1)).isEqualTo("xenops.id=vm-1 quiet");
    }

    @Test
    void recognizesItsOwnProcessesOnly() {
        List<String> a = QemuCommandLine.build("qemu", "microvm", new AccelChoice("tcg", "max", "t"), spec, dir, false, List.of());
        Path domains = Path.of("/var/lib/xenops/domains");
        assertThat(ProcTable.match(42, a, domains)).hasValueSatisfying(p -> assertThat(p.id()).isEqualTo("vm-1"));
        assertThat(ProcTable.match(42, a, Path.of("/other/state/domains"))).isEmpty();
        assertThat(ProcTable.match(42, List.of("qemu", "-name", "vm-1"), domains)).isEmpty();
        assertThat(ProcTable.match(42, List.of("bash", "-c", "sleep"), domains)).isEmpty();
    }

    @Test
    void refusesUnsafeIdsAndLongSocketPaths() {
        assertThat(QemuCommandLine.isValidId("vm-1.a_b")).isTrue();
        for (String bad : List.of("", "../x", "a/b", ".hidden", "a b", "x".repeat(65), "a,b")) {
            assertThat(QemuCommandLine.isValidId(bad)).as(bad).isFalse();
        }
        assertThatThrownBy(() -> QemuCommandLine.requireSocketPathFits(Path.of("/" + "d".repeat(100))))
                .hasMessageContaining("unix sockets allow 107");
        assertThatThrownBy(() -> QemuCommandLine.requireSocketPathFits(Path.of("/tmp/a,b")))
                .hasMessageContaining("','");
        QemuCommandLine.requireSocketPathFits(Path.of("/" + "d".repeat(107 - "/console.sock".length() - 1)));
    }
}
