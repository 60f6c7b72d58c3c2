package io.xenops.driver.xen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuStateTest {
    // The shape of xen-hvmctx's CPU record (Xen 4.17), two vCPUs, abridged.
    private static final String HVMCTX = """
            HVM save record for domain 7
            Entry 0: type 1 instance 0, length 24
                 Header: magic 0x54381286, version 1
                         Xen changeset 0
                         CPUID[0][%eax] 0x00000f61
            Entry 1: type 2 instance 0, length 1032
                CPU:    rax 0x0000000000000000     rbx 0x0000000000000001
                        rdi 0x0000000000000004     rsp 0x00000000001ffe58
                        rip 0x0000000000101a2b  rflags 0x0000000000010046
                        cr0 0x0000000080000011     cr2 0x0000000000000000
                       idtr            (0x0000000000140000 + 0x00000fff)
                       gdtr            (0x0000000000139000 + 0x0000001f)
            Entry 2: type 2 instance 1, length 1032
                CPU:    rax 0x0000000000000000     rbx 0x0000000000000000
                        rip 0x00000000deadbeef  rflags 0x0000000000000002
            """;

    @Test
    void theFirstCpuRecordsWhereRegistersAreRead() {
        CpuState c = CpuState.parseHvmContext(HVMCTX).orElseThrow();
        assertThat(c.registers()).containsExactly(Map.entry("rip", 0x101a2bL), Map.entry("rsp", 0x1ffe58L), Map.entry("cr2", 0L),
                Map.entry("idtr", 0x140000L), Map.entry("gdtr", 0x139000L));
        assertThat(c.describe()).isEqualTo("rip 0x101a2b, rsp 0x1ffe58, cr2 0x0, idtr 0x140000, gdtr 0x139000");
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
