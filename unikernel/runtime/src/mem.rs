//! The C memory primitives LLVM lowers copies and zeroing to. There is no libc to
//! provide them. Byte loops keep them free of vector instructions; the copies the
//! runtime does are small (lines of at most 1 KiB), so speed does not matter here.

#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        // Volatile keeps LLVM from recognising the loop and calling memcpy again.
        core::ptr::write_volatile(dest.add(i), *src.add(i));
        i += 1;
    }
    dest
}

#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) <= (src as usize) || (dest as usize) >= (src as usize).wrapping_add(n) {
        return memcpy(dest, src, n);
    }
    let mut i = n;
    while i > 0 {
        i -= 1;
        core::ptr::write_volatile(dest.add(i), *src.add(i));
    }
    dest
}

#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        core::ptr::write_volatile(dest.add(i), c as u8);
        i += 1;
    }
    dest
}

#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}
