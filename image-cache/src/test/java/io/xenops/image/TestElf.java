package io.xenops.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes small ELF64 kernels for tests: an ELF header, a PT_LOAD covering the file at 1 MiB (virtual =
 * physical, as our unikernels link), a PT_NOTE with the Xen notes asked for, and a payload of seeded bytes
 * so that two seeds give two digests.
 */
public final class TestElf {
    public static final long BASE = 0x100000;
    public int elfClass = 2;
    public int data = 1;
    public int machine = 62;
    public int type = 2;
    public Long pvhEntry = BASE + 0x200;
    public boolean pvhDesc4;
    public Long pvEntry = BASE + 0x200;
    public Long hypercallPage = BASE + 0x1000;
    public String guestOs = "xenops";
    public int payload = 8192;
    public long seed = 1;
    public long memsz = 0x4000;

    public static TestElf both() { return new TestElf(); }

    public static TestElf pvhOnly() {
        TestElf e = new TestElf();
        e.pvEntry = null;
        e.hypercallPage = null;
        return e;
    }

    public static TestElf pvOnly() {
        TestElf e = new TestElf();
        e.pvhEntry = null;
        return e;
    }

    public TestElf seed(long s) {
        seed = s;
        return this;
    }

    public TestElf payload(int bytes) {
        payload = bytes;
        memsz = Math.max(memsz, bytes + 0x1000L);
        return this;
    }

    public byte[] build() {
        ByteBuffer notes = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        if (guestOs != null) note(notes, 6, (guestOs + "\0").getBytes(StandardCharsets.US_ASCII));
        if (pvEntry != null) note(notes, 1, le64(pvEntry));
        if (hypercallPage != null) note(notes, 2, le64(hypercallPage));
        if (pvhEntry != null) note(notes, 18, pvhDesc4 ? le32(pvhEntry) : le64(pvhEntry));
        int notesLen = notes.position();
        int phoff = 64, phnum = 2, notesOff = phoff + phnum * 56;
        int total = notesOff + notesLen + payload;
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) elfClass, (byte) data, 1, 0});
        b.position(16);
        b.putShort((short) type).putShort((short) machine).putInt(1);
        b.putLong(BASE + 0x200).putLong(phoff).putLong(0); // e_entry, e_phoff, e_shoff
        b.putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) phnum); // flags, ehsize, phentsize, phnum
        b.putShort((short) 64).putShort((short) 0).putShort((short) 0);
        // PT_LOAD: the whole file at BASE
        b.position(phoff);
        b.putInt(1).putInt(7).putLong(0).putLong(BASE).putLong(BASE).putLong(total).putLong(Math.max(memsz, total)).putLong(0x1000);
        // PT_NOTE
        b.putInt(4).putInt(4).putLong(notesOff).putLong(BASE + notesOff).putLong(BASE + notesOff)
                .putLong(notesLen).putLong(notesLen).putLong(4);
        b.position(notesOff);
        b.put(notes.array(), 0, notesLen);
        byte[] rest = new byte[payload];
        new Random(seed).nextBytes(rest);
        b.put(rest);
        return b.array();
    }

    public Path write(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, build());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void note(ByteBuffer b, int type, byte[] desc) {
        b.putInt(4).putInt(desc.length).putInt(type).put(new byte[] {'X', 'e', 'n', 0});
        b.put(desc);
        while (b.position() % 4 != 0) b.put((byte) 0);
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static byte[] le32(long v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array();
    }

    /** A manifest as the unikernel build writes it. */
    public static String manifest(String name, String version) {
        return "{\"name\":\"" + name + "\",\"version\":\"" + version
                + "\",\"memory_mib\":4,\"vcpus\":1,\"cmdline\":\"\",\"readiness\":\"console\"}";
    }

    /** The real unikernel images, when the unikernel module has built them. */
    public static Path realImages() {
        return Path.of("..", "unikernel", "target", "images").toAbsolutePath().normalize();
    }
}
