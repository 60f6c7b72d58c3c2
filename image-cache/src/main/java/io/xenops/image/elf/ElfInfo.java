package io.xenops.image.elf;

import io.xenops.image.BootMode;
import java.util.List;
import java.util.OptionalLong;

/**
 * What {@link ElfInspector} found in a kernel: enough to decide how it can boot.
 *
 * @param entry         e_entry from the ELF header
 * @param bootModes     the usable boot modes, PVH first; never empty (the inspector rejects such a file)
 * @param pvhEntry      XEN_ELFNOTE_PHYS32_ENTRY, a physical address, when present and inside a loaded segment
 * @param pvEntry       XEN_ELFNOTE_ENTRY, a virtual address, when PV is usable
 * @param hypercallPage XEN_ELFNOTE_HYPERCALL_PAGE, when PV is usable
 * @param guestOs       XEN_ELFNOTE_GUEST_OS, or empty
 * @param sizeBytes     the file's size
 */
public record ElfInfo(long entry, List<BootMode> bootModes, OptionalLong pvhEntry, OptionalLong pvEntry,
                      OptionalLong hypercallPage, String guestOs, long sizeBytes) {
    public ElfInfo {
        bootModes = List.copyOf(bootModes);
        guestOs = guestOs == null ? "" : guestOs;
    }
}
