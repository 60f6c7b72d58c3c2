/// A static the runtime mutates in place.
///
/// The runtime runs on one vCPU with interrupts masked except inside
/// [`crate::cpu::wait_for_interrupt`], and the interrupt handlers touch no `Global`
/// but the ones documented on them, so plain unsynchronised access is sound.
pub struct Global<T>(core::cell::UnsafeCell<T>);

unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub const fn new(value: T) -> Self {
        Global(core::cell::UnsafeCell::new(value))
    }

    /// # Safety
    /// No other reference obtained from this `Global` may be live.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        &mut *self.0.get()
    }

    pub fn as_ptr(&self) -> *mut T {
        self.0.get()
    }
}

/// One page-aligned page of memory inside the image, for things Xen maps over RAM.
#[repr(C, align(4096))]
pub struct Page(pub [u8; 4096]);
