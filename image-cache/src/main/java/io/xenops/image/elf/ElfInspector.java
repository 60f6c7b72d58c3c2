package io.xenops.image.elf;

import io.xenops.image.BootMode;
import io.xenops.image.ImageException;
import io.xenops.image.ImageException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;

/**
 * Reads the ELF64 header, the program headers and the Xen notes of a kernel, and decides which boot modes
 * are usable. It trusts nothing in the file: every offset and size is bounds-checked against the file's
 * length, so a hostile or truncated file gives an {@link ImageException} and never an exception of another
 * kind or an allocation the file chose.
 *
 * <p>Boot modes, as Xen's libelf and QEMU read them:
 * <ul>
 *   <li>PVH: XEN_ELFNOTE_PHYS32_ENTRY (18), a physical address inside a PT_LOAD segment's physical range;</li>
 *   <li>PV: XEN_ELFNOTE_ENTRY (1) and XEN_ELFNOTE_HYPERCALL_PAGE (2), both inside a PT_LOAD's virtual range.</li>
 * </ul>
 */
public final class ElfInspector {
    static final int EM_X86_64 = 62;
    static final int ET_EXEC = 2;
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    static final int XEN_ELFNOTE_ENTRY = 1;
    static final int XEN_ELFNOTE_HYPERCALL_PAGE = 2;
    static final int XEN_ELFNOTE_GUEST_OS = 6;
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    /** Real kernels have a handful of program headers; a bound keeps a hostile e_phnum cheap. */
    private static final int MAX_PHDRS = 256;
    /** Notes are a few hundred bytes; a bound keeps a hostile p_filesz from sizing our buffer. */
    private static final int MAX_NOTE_BYTES = 64 * 1024;

    private final long maxBytes;

    /** @param maxBytes the largest kernel accepted; larger files fail with {@link Reason#TOO_LARGE} */
    public ElfInspector(long maxBytes) {
        if (maxBytes < EHDR_SIZE) throw new IllegalArgumentException("maxBytes too small: " + maxBytes);
        this.maxBytes = maxBytes;
    }

    public long maxBytes() { return maxBytes; }

    /** Inspects {@code file}; {@code what} names it in error messages (the file may be a temporary copy). */
    public ElfInfo inspect(Path file, String what) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return inspect(ch, what);
        } catch (IOException e) {
            throw new ImageException(Reason.STORAGE, what + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Inspects any seekable channel: a file, or bytes in memory. */
    public ElfInfo inspect(SeekableByteChannel ch, String what) throws IOException {
        long size = ch.size();
        if (size > maxBytes) {
            throw new ImageException(Reason.TOO_LARGE, what + ": kernel is " + size + " bytes, over the limit of "
                    + maxBytes + " bytes");
        }
        if (size < 4) throw invalid(what, "not an ELF file (" + size + " bytes)");
        ByteBuffer eh = read(ch, 0, (int) Math.min(EHDR_SIZE, size));
        if (eh.get(0) != 0x7f || eh.get(1) != 'E' || eh.get(2) != 'L' || eh.get(3) != 'F') {
            throw invalid(what, "not an ELF file (magic " + HexFormat.ofDelimiter(" ").formatHex(eh.array(), 0, 4) + ")");
        }
        if (size < EHDR_SIZE) throw invalid(what, "truncated ELF header (" + size + " bytes)");
        int elfClass = eh.get(4);
        if (elfClass != 2) {
            throw invalid(what, (elfClass == 1 ? "a 32-bit ELF" : "ELF class " + elfClass)
                    + ": only 64-bit (ELFCLASS64) x86-64 kernels are supported");
        }
        if (eh.get(5) != 1) throw invalid(what, "big-endian ELF: only little-endian x86-64 kernels are supported");
        eh.order(ByteOrder.LITTLE_ENDIAN);
        int type = Short.toUnsignedInt(eh.getShort(16));
        int machine = Short.toUnsignedInt(eh.getShort(18));
        if (machine != EM_X86_64) {
            throw invalid(what, "wrong architecture: e_machine " + machine + " (" + machineName(machine)
                    + "), expected 62 (x86-64)");
        }
        if (type != ET_EXEC) throw invalid(what, "ELF type " + type + " is not an executable (ET_EXEC)");
        long entry = eh.getLong(24);
        long phoff = eh.getLong(32);
        int phentsize = Short.toUnsignedInt(eh.getShort(54));
        int phnum = Short.toUnsignedInt(eh.getShort(56));
        if (phnum == 0) throw invalid(what, "no program headers");
        if (phentsize != PHDR_SIZE) throw invalid(what, "program header size " + phentsize + ", expected 56");
        if (phnum > MAX_PHDRS) throw invalid(what, phnum + " program headers, more than " + MAX_PHDRS);
        if (phoff < 0 || phoff > size || size - phoff < (long) phnum * PHDR_SIZE) {
            throw invalid(what, "program headers lie outside the file");
        }
        ByteBuffer ph = read(ch, phoff, phnum * PHDR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        List<Segment> loads = new ArrayList<>();
        Notes notes = new Notes();
        for (int i = 0; i < phnum; i++) {
            int base = i * PHDR_SIZE;
            int pType = ph.getInt(base);
            long off = ph.getLong(base + 8), vaddr = ph.getLong(base + 16), paddr = ph.getLong(base + 24);
            long filesz = ph.getLong(base + 32), memsz = ph.getLong(base + 40), align = ph.getLong(base + 48);
            if (pType != PT_LOAD && pType != PT_NOTE) continue;
            if (off < 0 || filesz < 0 || off > size || size - off < filesz) {
                throw invalid(what, "truncated: segment " + i + " ends past the end of the file ("
                        + Long.toUnsignedString(off) + "+" + Long.toUnsignedString(filesz) + " > " + size + ")");
            }
            if (pType == PT_LOAD) {
                if (Long.compareUnsigned(memsz, filesz) < 0) throw invalid(what, "segment " + i + " has p_memsz < p_filesz");
                loads.add(new Segment(vaddr, paddr, memsz));
            } else {
                if (filesz > MAX_NOTE_BYTES) throw invalid(what, "note segment " + i + " is " + filesz + " bytes");
                parseNotes(read(ch, off, (int) filesz).order(ByteOrder.LITTLE_ENDIAN), align == 8 ? 8 : 4, notes, what);
            }
        }
        if (loads.isEmpty()) throw invalid(what, "no loadable (PT_LOAD) segment");
        return decide(what, entry, loads, notes, size);
    }

    private ElfInfo decide(String what, long entry, List<Segment> loads, Notes n, long size) {
        List<BootMode> modes = new ArrayList<>();
        List<String> why = new ArrayList<>();
        OptionalLong pvh = OptionalLong.empty(), pv = OptionalLong.empty(), hc = OptionalLong.empty();
        if (n.phys32Entry == null) {
            why.add("no XEN_ELFNOTE_PHYS32_ENTRY (18) note for PVH");
        } else if (loads.stream().noneMatch(s -> s.containsPhysical(n.phys32Entry))) {
            why.add("PVH entry 0x" + Long.toHexString(n.phys32Entry) + " lies outside every loaded segment");
        } else {
            modes.add(BootMode.PVH);
            pvh = OptionalLong.of(n.phys32Entry);
        }
        if (n.entry == null || n.hypercallPage == null) {
            why.add("no XEN_ELFNOTE_ENTRY (1) and XEN_ELFNOTE_HYPERCALL_PAGE (2) notes for PV");
        } else if (loads.stream().noneMatch(s -> s.containsVirtual(n.entry))
                || loads.stream().noneMatch(s -> s.containsVirtual(n.hypercallPage))) {
            why.add("PV entry 0x" + Long.toHexString(n.entry) + " or hypercall page 0x"
                    + Long.toHexString(n.hypercallPage) + " lies outside every loaded segment");
        } else {
            modes.add(BootMode.PV);
            pv = OptionalLong.of(n.entry);
            hc = OptionalLong.of(n.hypercallPage);
        }
        if (modes.isEmpty()) throw invalid(what, "no usable boot note: " + String.join("; ", why));
        return new ElfInfo(entry, modes, pvh, pv, hc, n.guestOs, size);
    }

    private static void parseNotes(ByteBuffer b, int align, Notes out, String what) {
        int pos = 0, end = b.limit();
        while (end - pos >= 12) {
            long namesz = Integer.toUnsignedLong(b.getInt(pos));
            long descsz = Integer.toUnsignedLong(b.getInt(pos + 4));
            int type = b.getInt(pos + 8);
            long nameStart = pos + 12L;
            long descStart = nameStart + roundUp(namesz, align);
            long next = descStart + roundUp(descsz, align);
            if (descStart + descsz > end || nameStart + namesz > end) throw invalid(what, "malformed ELF note");
            if (namesz == 4 && b.get((int) nameStart) == 'X' && b.get((int) nameStart + 1) == 'e'
                    && b.get((int) nameStart + 2) == 'n' && b.get((int) nameStart + 3) == 0) {
                xenNote(b, type, (int) descStart, (int) descsz, out);
            }
            pos = (int) Math.min(next, end);
        }
    }

    private static void xenNote(ByteBuffer b, int type, int at, int len, Notes out) {
        switch (type) {
            case XEN_ELFNOTE_ENTRY -> out.entry = number(b, at, len);
            case XEN_ELFNOTE_HYPERCALL_PAGE -> out.hypercallPage = number(b, at, len);
            case XEN_ELFNOTE_PHYS32_ENTRY -> out.phys32Entry = number(b, at, len);
            case XEN_ELFNOTE_GUEST_OS -> {
                byte[] s = new byte[Math.min(len, 64)];
                b.get(at, s);
                int nul = 0;
                while (nul < s.length && s[nul] != 0) nul++;
                out.guestOs = new String(s, 0, nul, StandardCharsets.US_ASCII).replaceAll("[^\\x20-\\x7e]", "?");
            }
            default -> { }
        }
    }

    /** Xen writes numeric notes as 4 or 8 little-endian bytes; any other size is not a number we can use. */
    private static Long number(ByteBuffer b, int at, int len) {
        return switch (len) {
            case 4 -> Integer.toUnsignedLong(b.getInt(at));
            case 8 -> b.getLong(at);
            default -> null;
        };
    }

    private static long roundUp(long v, int align) { return (v + align - 1) / align * align; }

    private static ByteBuffer read(SeekableByteChannel ch, long at, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        ch.position(at);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new IOException("file shrank while being read");
        }
        return b.flip();
    }

    private static ImageException invalid(String what, String why) {
        return new ImageException(Reason.INVALID, what + ": " + why);
    }

    private static String machineName(int m) {
        return switch (m) {
            case 3 -> "i386";
            case 40 -> "ARM";
            case 183 -> "AArch64";
            case 243 -> "RISC-V";
            default -> "unknown";
        };
    }

    private record Segment(long vaddr, long paddr, long memsz) {
        boolean containsVirtual(long a) { return inRange(a, vaddr); }

        boolean containsPhysical(long a) { return inRange(a, paddr); }

        private boolean inRange(long a, long base) {
            return Long.compareUnsigned(a, base) >= 0 && Long.compareUnsigned(a - base, memsz) < 0;
        }
    }

    private static final class Notes {
        Long entry, hypercallPage, phys32Entry;
        String guestOs;
    }
}
