//! The C memory primitives LLVM lowers copies and zeroing to; there is no libc.
//!
//! They use `rep movs`/`rep stos` rather than loops: no vector registers, and under
//! kvm-pvm, which emulates every guest instruction, one repeated string instruction
//! costs about as much per iteration as a single loop instruction would, and moves
//! eight bytes per iteration in its quadword form.
//!
//! # Safety
//! The C contracts: pointers valid for `n` bytes; memcpy's regions do not overlap.
#![allow(clippy::missing_safety_doc)]

use core::arch::asm;

#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    asm!(
        "rep movsq",
        "mov ecx, {tail:e}",
        "rep movsb",
        tail = in(reg) n % 8,
        inout("rcx") n / 8 => _,
        inout("rdi") dest => _,
        inout("rsi") src => _,
        options(nostack, preserves_flags),
    );
    dest
}

#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) <= (src as usize) || (dest as usize) >= (src as usize).wrapping_add(n) {
        return memcpy(dest, src, n);
    }
    if n > 0 {
        // Overlapping with dest above src: copy from the last byte down.
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dest.add(n - 1) => _,
            inout("rsi") src.add(n - 1) => _,
            options(nostack),
        );
    }
    dest
}

#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    asm!(
        "rep stosq",
        "mov ecx, {tail:e}",
        "rep stosb",
        tail = in(reg) n % 8,
        inout("rcx") n / 8 => _,
        inout("rdi") dest => _,
        in("rax") (c as u8 as u64).wrapping_mul(0x0101_0101_0101_0101),
        options(nostack, preserves_flags),
    );
    dest
}

#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n == 0 {
        return 0;
    }
    let (x, y): (u8, u8);
    // repe cmpsb stops one past the first difference (or after n equal bytes).
    asm!(
        "repe cmpsb",
        "mov {x}, byte ptr [rsi - 1]",
        "mov {y}, byte ptr [rdi - 1]",
        x = out(reg_byte) x,
        y = out(reg_byte) y,
        inout("rcx") n => _,
        inout("rsi") a => _,
        inout("rdi") b => _,
        options(nostack, readonly),
    );
    x as i32 - y as i32
}

#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}
