//! Entry points, ELF notes, the boot GDT and page tables, and interrupt stubs.
//!
//! Three loaders start this image:
//! * QEMU `-kernel` and Xen PVH jump to `_pvh_start` (XEN_ELFNOTE_PHYS32_ENTRY) in
//!   32-bit protected mode without paging, %ebx = physical address of hvm_start_info;
//! * Xen PV jumps to `_pv_start` (XEN_ELFNOTE_ENTRY) in 64-bit mode on Xen's page
//!   tables, %rsi = virtual address of start_info. Nothing privileged may run there.

use core::arch::global_asm;

/// Selectors in the boot GDT below.
pub const KERNEL_CS: u16 = 0x08;

global_asm!(
    r#"
    .macro xen_note_str type, text
        .balign 4
        .long 4
        .long 2f - 1f
        .long \type
        .asciz "Xen"
    1:  .asciz "\text"
    2:  .balign 4
    .endm

    .macro xen_note_quad type, value
        .balign 4
        .long 4
        .long 8
        .long \type
        .asciz "Xen"
        .quad \value
    .endm

    .pushsection .note.Xen, "a", @note
    xen_note_str 6, "xenops"
    xen_note_str 7, "0.1.0"
    xen_note_str 5, "xen-3.0"
    xen_note_str 8, "generic"
    xen_note_quad 3, 0
    xen_note_quad 4, 0
    xen_note_quad 1, _pv_start
    xen_note_quad 2, hypercall_page
    xen_note_str 10, "!writable_page_tables"
    /* QEMU 7.2 reads this descriptor as 8 bytes; Xen accepts 4 or 8. */
    xen_note_quad 18, _pvh_start
    .popsection

    .pushsection .text.boot, "ax"
    .code32
    .globl _pvh_start
_pvh_start:
    /* kvm-pvm emulates every instruction until long mode is on, at several
       microseconds each: do the least possible here. */
    mov %ebx, %esi
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax
    mov %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $pvh_long_mode

    /* Everything above is 32-bit code; check.sh disassembles it as such. */
    .code64
    .globl pvh_long_mode
pvh_long_mode:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %esi, %edi
    call xenops_pvh_entry
    ud2

    /* .bss is not cleared here: both loaders zero it (ELF p_memsz beyond
       p_filesz, as QEMU's and libxc's ELF loaders do), and under kvm-pvm every
       guest instruction is emulated, so clearing 100 KiB would cost a 100 ms. */
    .globl _pv_start
_pv_start:
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %rsi, %rdi
    call xenops_pv_entry
    ud2
    .popsection

    /* Xen PV fills this page while building the domain; under PVH the runtime asks
       Xen to fill it through an MSR. It must not be in .bss, which boot clears. */
    .pushsection .text.hypercall, "ax"
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc
    .popsection

    .pushsection .rodata.boot_gdt, "a"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_end:
    .balign 4
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
    .popsection

    /* The identity map of the low 4 GiB with 2 MiB pages: RAM, hvm_start_info and
       the command line (anywhere below 4 GiB), Xen's special pages just under
       4 GiB, and the local and I/O APIC windows. It is file-backed rather than
       built at boot because kvm-pvm shadows guest page tables: every store to one
       traps, and filling 2048 entries at boot cost hundreds of milliseconds. */
    .pushsection .data.boot_pagetables, "aw"
    .balign 4096
boot_pml4:
    .quad boot_pdpt + 3
    .fill 511, 8, 0
boot_pdpt:
    .quad boot_pd + 3
    .quad boot_pd + 0x1000 + 3
    .quad boot_pd + 0x2000 + 3
    .quad boot_pd + 0x3000 + 3
    .fill 508, 8, 0
boot_pd:
    .set large_page, 0x83
    .rept 2048
    .quad large_page
    .set large_page, large_page + 0x200000
    .endr
    .popsection

    .pushsection .bss.boot, "aw", @nobits
    .balign 4096
    .balign 16
boot_stack:
    .skip 65536
    .globl boot_stack_top
boot_stack_top:
    .popsection

    /* Interrupt entry: every stub leaves vector and error code on the stack so that
       one Rust function sees a uniform frame. */
    .pushsection .text.isr, "ax"
    /* One 16-byte stub per vector, exception vectors first, so that the IDT can be
       filled with a short loop (boot.rs: stub address = base + 16 * index). */
    .balign 512
    .globl xenops_isr_stubs
xenops_isr_stubs:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .if \n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30
    push $\n
    jmp isr_common
    .else
    push $0
    push $\n
    jmp isr_common
    .endif
    .endr
    .balign 16
    .globl xenops_uart_stub
xenops_uart_stub:
    /* The UART interrupt only has to wake the hlt in the idle loop: acknowledge it
       at the local APIC and return, in as few (emulated) instructions as can be. */
    push %rax
    mov lapic_eoi(%rip), %rax
    movl $0, (%rax)
    pop %rax
    iretq
    .balign 16
    .globl xenops_xen_upcall_stub
xenops_xen_upcall_stub:
    push $0
    push $243
    jmp isr_common
    .balign 16
    .globl xenops_spurious_stub
xenops_spurious_stub:
    iretq

isr_common:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov %rsp, %rdi
    call xenops_interrupt
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp
    iretq
    .popsection

    .pushsection .data.lapic_eoi, "aw"
    .balign 8
    .globl lapic_eoi
lapic_eoi:
    .quad 0xfee000b0
    .popsection
"#,
    options(att_syntax)
);

extern "C" {
    /// 32 exception stubs of 16 bytes each.
    pub static xenops_isr_stubs: [u8; 32 * 16];
    pub static xenops_uart_stub: u8;
    pub static xenops_xen_upcall_stub: u8;
    pub static xenops_spurious_stub: u8;
    pub static hypercall_page: [u8; 4096];
    /// Address the UART stub writes to acknowledge an interrupt (LAPIC EOI).
    pub static mut lapic_eoi: u64;
}

/// Vector of COM1 (ISA IRQ 4) as routed through the I/O APIC.
pub const UART_VECTOR: u8 = 36;
/// Vector Xen injects for event-channel upcalls under PVH (what Linux uses too).
pub const XEN_UPCALL_VECTOR: u8 = 243;
/// Local APIC spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 255;
