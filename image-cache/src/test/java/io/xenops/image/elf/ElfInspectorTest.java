package io.xenops.image.elf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.xenops.image.BootMode;
import io.xenops.image.BytesChannel;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import io.xenops.image.TestElf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

class ElfInspectorTest {
    @TempDir Path dir;
    private final ElfInspector inspector = new ElfInspector(1 << 20);

    private ElfInfo inspect(byte[] bytes) throws IOException {
        return inspector.inspect(new BytesChannel(bytes), "kernel.elf");
    }

    private void rejected(byte[] bytes, Reason reason, String message) {
        assertThatThrownBy(() -> inspect(bytes))
                .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(reason))
                .hasMessageStartingWith("kernel.elf: ")
                .hasMessageContaining(message);
    }

    @Test
    void readsKernelFilesFromDisk() throws IOException {
        Path f = TestElf.pvhOnly().write(dir.resolve("kernel.elf"));
        assertThat(inspector.inspect(f, "kernel.elf").bootModes()).containsExactly(BootMode.PVH);
        assertThat(inspector.inspect(f, "kernel.elf").sizeBytes()).isEqualTo(Files.size(f));
    }

    @Test
    void findsPvhAndPvInAKernelThatHasBothNoteSets() throws IOException {
        ElfInfo info = inspect(TestElf.both().build());
        assertThat(info.bootModes()).containsExactly(BootMode.PVH, BootMode.PV);
        assertThat(info.pvhEntry()).hasValue(TestElf.BASE + 0x200);
        assertThat(info.pvEntry()).hasValue(TestElf.BASE + 0x200);
        assertThat(info.hypercallPage()).hasValue(TestElf.BASE + 0x1000);
        assertThat(info.guestOs()).isEqualTo("xenops");
        assertThat(info.entry()).isEqualTo(TestElf.BASE + 0x200);
    }

    @Test
    void pvhOnlyAndPvOnlyKernels() throws IOException {
        assertThat(inspect(TestElf.pvhOnly().build()).bootModes()).containsExactly(BootMode.PVH);
        assertThat(inspect(TestElf.pvOnly().build()).bootModes()).containsExactly(BootMode.PV);
        TestElf four = TestElf.pvhOnly();
        four.pvhDesc4 = true; // Linux writes a 4-byte PHYS32_ENTRY; QEMU 7.2 wants 8: both are numbers to us
        assertThat(inspect(four.build()).pvhEntry()).hasValue(TestElf.BASE + 0x200);
    }

    @Test
    void pvNeedsTheHypercallPageToo() {
        TestElf e = TestElf.pvOnly();
        e.hypercallPage = null;
        rejected(e.build(), Reason.INVALID, "no usable boot note");
        rejected(e.build(), Reason.INVALID, "XEN_ELFNOTE_HYPERCALL_PAGE");
    }

    @Test
    void rejectsWhatIsNotAnElf() {
        rejected("#!/bin/sh\necho hi\n".getBytes(StandardCharsets.US_ASCII), Reason.INVALID, "not an ELF file (magic 23 21 2f 62)");
        rejected(new byte[0], Reason.INVALID, "not an ELF file (0 bytes)");
        rejected(Arrays.copyOf(TestElf.both().build(), 40), Reason.INVALID, "truncated ELF header");
    }

    @Test
    void rejectsWrongClassEndiannessArchitectureAndType() {
        TestElf c32 = TestElf.both();
        c32.elfClass = 1;
        rejected(c32.build(), Reason.INVALID, "a 32-bit ELF");
        TestElf be = TestElf.both();
        be.data = 2;
        rejected(be.build(), Reason.INVALID, "big-endian");
        TestElf arm = TestElf.both();
        arm.machine = 183;
        rejected(arm.build(), Reason.INVALID, "wrong architecture: e_machine 183 (AArch64), expected 62 (x86-64)");
        TestElf dyn = TestElf.both();
        dyn.type = 3;
        rejected(dyn.build(), Reason.INVALID, "not an executable");
    }

    @Test
    void rejectsAKernelWithoutXenNotes() {
        TestElf none = TestElf.both();
        none.pvhEntry = null;
        none.pvEntry = null;
        none.hypercallPage = null;
        rejected(none.build(), Reason.INVALID, "no usable boot note: no XEN_ELFNOTE_PHYS32_ENTRY (18) note for PVH");
    }

    @Test
    void rejectsAnEntryOutsideEveryLoadedSegment() {
        TestElf e = TestElf.pvhOnly();
        e.pvhEntry = 0x7000_0000L;
        rejected(e.build(), Reason.INVALID, "PVH entry 0x70000000 lies outside every loaded segment");
    }

    @Test
    void rejectsTruncatedFiles() {
        byte[] full = TestElf.both().build();
        rejected(Arrays.copyOf(full, full.length - 100), Reason.INVALID, "truncated: segment 0 ends past the end of the file");
        rejected(Arrays.copyOf(full, 100), Reason.INVALID, "program headers lie outside the file");
    }

    @Test
    void rejectsFilesOverTheLimitBeforeReadingThem() throws IOException {
        ElfInspector small = new ElfInspector(4096);
        Path f = TestElf.both().payload(8192).write(dir.resolve("big.elf"));
        assertThatThrownBy(() -> small.inspect(f, "big.elf"))
                .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE))
                .hasMessageContaining("over the limit of 4096 bytes");
    }

    @Test
    void hostileHeaderFieldsGiveImageExceptionsOnly() {
        byte[] good = TestElf.both().build();
        byte[] hugePhnum = good.clone();
        ByteBuffer.wrap(hugePhnum).order(ByteOrder.LITTLE_ENDIAN).putShort(56, (short) 0xffff);
        rejected(hugePhnum, Reason.INVALID, "65535 program headers");
        byte[] negOffset = good.clone();
        ByteBuffer.wrap(negOffset).order(ByteOrder.LITTLE_ENDIAN).putLong(32, -8);
        rejected(negOffset, Reason.INVALID, "program headers lie outside the file");
        byte[] noteSize = good.clone();
        // note segment's p_filesz (second phdr) = 2^62
        ByteBuffer.wrap(noteSize).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 56 + 32, 1L << 62);
        rejected(noteSize, Reason.INVALID, "truncated: segment 1");
    }

    /** Random byte flips of a valid kernel: each either parses or is an ImageException, never anything else. */
    @Test
    void mutatedKernelsNeverEscapeAsOtherExceptions() throws IOException {
        byte[] good = TestElf.both().payload(256).build();
        Random r = new Random(42);
        int parsed = 0, rejected = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] m = good.clone();
            int flips = 1 + r.nextInt(4);
            for (int k = 0; k < flips; k++) m[r.nextInt(Math.min(m.length, 400))] = (byte) r.nextInt(256);
            try {
                inspector.inspect(new BytesChannel(m), "mutant");
                parsed++;
            } catch (ImageException e) {
                assertThat(e.reason()).isIn(Reason.INVALID, Reason.TOO_LARGE);
                rejected++;
            }
        }
        assertThat(parsed).isPositive();
        assertThat(rejected).isPositive();
    }

    /** One test per image the unikernel build has produced (none before it has run). */
    @TestFactory
    Stream<DynamicTest> realUnikernelImagesBootBothWays() throws IOException {
        Path images = TestElf.realImages();
        if (!Files.isDirectory(images)) return Stream.empty();
        List<Path> kernels;
        try (Stream<Path> s = Files.list(images)) {
            kernels = s.map(p -> p.resolve("kernel.elf")).filter(Files::isRegularFile).sorted().toList();
        }
        return kernels.stream().map(k -> dynamicTest(k.getParent().getFileName().toString(), () -> {
            ElfInfo info = new ElfInspector(64 << 20).inspect(k, k.toString());
            assertThat(info.bootModes()).containsExactly(BootMode.PVH, BootMode.PV);
            assertThat(info.guestOs()).isNotEmpty();
        }));
    }
}
