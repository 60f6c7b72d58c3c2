package io.xenops.it;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hostile guests made from the real hello kernel by overwriting the code at its PVH entry point, so they
 * boot through exactly the path a real image does and then misbehave: {@code spin} never prints READY;
 * {@code flood} writes to the serial port forever. Made in a temporary image directory per test.
 */
final class ReliabilityImages {
    private ReliabilityImages() {}

    /** {@code jmp $}: boots, then does nothing at all. */
    static final byte[] SPIN = {(byte) 0xeb, (byte) 0xfe};

    /**
     * 32-bit protected mode (the PVH entry state): {@code mov dx,0x3f8; l: mov al,'A'; out dx,al; mov al,'\n';
     * out dx,al; jmp l}. Lines of one byte, as fast as the vCPU can exit to QEMU.
     */
    static final byte[] FLOOD_LINES = {0x66, (byte) 0xba, (byte) 0xf8, 0x03, (byte) 0xb0, 0x41, (byte) 0xee,
        (byte) 0xb0, 0x0a, (byte) 0xee, (byte) 0xeb, (byte) 0xf8};

    /** As {@link #FLOOD_LINES} without the newline: one endless line. */
    static final byte[] FLOOD_ONE_LINE = {0x66, (byte) 0xba, (byte) 0xf8, 0x03, (byte) 0xb0, 0x41, (byte) 0xee,
        (byte) 0xeb, (byte) 0xfd};

    /** Writes {@code dir/name/} with hello's manifest (renamed) and a kernel whose entry runs {@code code}. */
    static Path make(Path dir, String name, byte[] code) throws IOException {
        Path hello = DaemonProcess.IMAGES.resolve("hello");
        Path out = Files.createDirectories(dir.resolve(name));
        byte[] elf = Files.readAllBytes(hello.resolve("kernel.elf"));
        long off = pvhEntryFileOffset(elf);
        System.arraycopy(code, 0, elf, (int) off, code.length);
        Files.write(out.resolve("kernel.elf"), elf);
        String manifest = Files.readString(hello.resolve("manifest.json"));
        if (!manifest.contains("\"name\":\"hello\"")) throw new AssertionError("unexpected hello manifest: " + manifest);
        Files.writeString(out.resolve("manifest.json"), manifest.replace("\"name\":\"hello\"", "\"name\":\"" + name + "\""));
        return out;
    }

    /** File offset of the XEN_ELFNOTE_PHYS32_ENTRY address (note type 18), found through the PT_LOAD holding it. */
    static long pvhEntryFileOffset(byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != 0x464c457f || elf[4] != 2) throw new AssertionError("hello kernel is not ELF64");
        long phoff = b.getLong(0x20);
        int phentsize = b.getShort(0x36) & 0xffff, phnum = b.getShort(0x38) & 0xffff;
        long entry = -1;
        for (int i = 0; i < phnum && entry < 0; i++) {
            int ph = (int) (phoff + (long) i * phentsize);
            if (b.getInt(ph) != 4) continue; // PT_NOTE
            int p = (int) b.getLong(ph + 8), end = p + (int) b.getLong(ph + 32);
            while (p + 12 <= end) {
                int namesz = b.getInt(p), descsz = b.getInt(p + 4), type = b.getInt(p + 8);
                int desc = p + 12 + ((namesz + 3) & ~3);
                String name = new String(elf, p + 12, Math.max(0, namesz - 1), java.nio.charset.StandardCharsets.US_ASCII);
                if (name.equals("Xen") && type == 18) {
                    entry = descsz >= 8 ? b.getLong(desc) : b.getInt(desc) & 0xffffffffL;
                    break;
                }
                p = desc + ((descsz + 3) & ~3);
            }
        }
        if (entry < 0) throw new AssertionError("hello kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
        for (int i = 0; i < phnum; i++) {
            int ph = (int) (phoff + (long) i * phentsize);
            if (b.getInt(ph) != 1) continue; // PT_LOAD
            long offset = b.getLong(ph + 8), paddr = b.getLong(ph + 24), filesz = b.getLong(ph + 32);
            if (entry >= paddr && entry + 16 <= paddr + filesz) return offset + (entry - paddr);
        }
        throw new AssertionError("PVH entry 0x" + Long.toHexString(entry) + " is in no loadable segment");
    }
}
