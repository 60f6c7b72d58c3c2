package io.xenops.driver.xen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuStateTest {
    // The shape of xen-hvmctx's CPU record (Xen 4.17), two vCPUs, abridged.
    // Xen 4.17's xen-hvmctx, abridged, with a second vCPU that must not override the first.
    private static final String HVMCTX = """
            HVM save record for domain 6
            Entry 0: type 1 instance 0, length 24
                 Header: magic 0x54381286, version 1
                         Xen changeset ffffffffffffffff
                         CPUID[0][%eax] 0x00060fb1
            Entry 1: type 2 instance 0, length 1032
                CPU:    rax 0x000000000011b90e     rbx 0x000000000011b948
                        rdi 0x000000000011c650     rsp 0x000000000011b90e
                        rip 0x0000000000102387  rflags 0x0000000000000012
                        cr0 0x0000000080000011     cr2 0x0000000000000000
                       idtr        (          00000000 +       0000)
                       gdtr        (        0x00104f70 +     0x0017)
                      event 0x80000306 error 0x00000000
                FPU:    fcw 0x0040 fsw 0x0000
            Entry 2: type 2 instance 1, length 1032
                CPU:    rax 0x0000000000000000     rbx 0x0000000000000000
                        rip 0x00000000deadbeef  rflags 0x0000000000000002
            """;

    @Test
    void theFirstCpuRecordsWhereRegistersAreRead() {
        CpuState c = CpuState.parseHvmContext(HVMCTX).orElseThrow();
        assertThat(c.registers()).containsExactly(Map.entry("rip", 0x102387L), Map.entry("rsp", 0x11b90eL), Map.entry("cr2", 0L),
                Map.entry("idtr", 0L), Map.entry("gdtr", 0x104f70L), Map.entry("event", 0x80000306L));
        assertThat(c.describe()).isEqualTo("rip 0x102387, rsp 0x11b90e, cr2 0x0, idtr 0x0, gdtr 0x104f70, event 0x80000306");
    }

    @Test
    void noCpuRecordIsNothing() {
        assertThat(CpuState.parseHvmContext("xen-hvmctx: could not get context: No such process")).isEmpty();
        assertThat(CpuState.parseHvmContext("    CPU:    nothing that looks like a register")).isEmpty();
        assertThat(CpuState.parseHvmContext("")).isEmpty();
    }

    @Test
    void aSixtyFourBitValueWithTheTopBitSetParses() {
        assertThat(CpuState.parseHvmContext("CPU: rip 0xffffffff80001000").orElseThrow().registers())
                .containsEntry("rip", 0xffffffff80001000L);
    }
}
